/* echo_server: accepts connections on its service socket (descriptor 3, made by sel_ldr -X)
 * one at a time, and sends every message back with its bytes and its descriptors until the
 * peer closes.
 *
 * It closes its own copy of the service address (descriptor 4) at once, so it ends, with
 * status 0, when every other copy is gone: imc_accept then fails with EIO.
 * `echo_server D` first sends a copy of the address over ConnectedSocket D (to a broker),
 * and closes D. */
#define _GNU_SOURCE
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Prints "FAIL <what>: <errno name>" on stdout, the line the tests look for, and exits 1. */
static void Fail(const char *what) {
  const char *name = strerrorname_np(errno);
  printf("FAIL %s: %s\n", what, name != NULL ? name : "E?");
  fflush(stdout);
  exit(1);
}

enum { kBoundSocket = 3, kAddress = 4 };

static char buffer[NACL_ABI_IMC_USER_BYTES_MAX];

static void Register(int channel) {
  int address = kAddress;
  struct NaClAbiNaClImcMsgIoVec iov = {"echo", 4};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, &address, 1, 0};
  if (imc_sendmsg(channel, &header, 0) != 4) Fail("echo_server: send the address");
  if (close(channel) != 0) Fail("echo_server: close the broker channel");
}

/* Echoes messages on `connection` until the peer closes. */
static void Serve(int connection) {
  for (;;) {
    int descv[NACL_ABI_IMC_DESC_MAX];
    struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
    struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, NACL_ABI_IMC_DESC_MAX, 0};
    int received = imc_recvmsg(connection, &header, 0);
    if (received < 0) {
      if (errno == EIO) return; /* The peer closed. */
      Fail("echo_server: imc_recvmsg");
    }
    iov.length = (size_t)received;
    int sent = imc_sendmsg(connection, &header, 0);
    int send_error = errno;
    for (size_t i = 0; i < header.desc_length; ++i) {
      if (descv[i] != -1) close(descv[i]);
    }
    if (sent < 0) {
      if (send_error == EIO) return; /* The peer closed before its answer. */
      errno = send_error;
      Fail("echo_server: imc_sendmsg");
    }
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1) Register(atoi(argv[1]));
  if (close(kAddress) != 0) Fail("echo_server: close its own address");
  printf("echo_server: ready\n");
  int connections = 0;
  for (;;) {
    int connection = imc_accept(kBoundSocket);
    if (connection < 0) {
      if (errno == EIO) break; /* Nobody can connect any more. */
      Fail("echo_server: imc_accept");
    }
    ++connections;
    Serve(connection);
    close(connection);
  }
  printf("echo_server: served %d connections\n", connections);
  return 0;
}
