/* soak_module: the long-lived module of //tests/soak. It accepts connections on its service
 * socket (descriptor 3) one at a time and answers one command message at a time; the first
 * byte names the command:
 *   'e'  echo the bytes and descriptors back (then close its copies of the descriptors),
 *   'm'  make 64 KiB of shared memory, map it, write it, unmap it, send it back, close it,
 *   'd'  dup the connection 4 times (dup and dup2), close the copies, answer "d",
 *   'c'  connect to its own address (descriptor 4), accept that request, send one message
 *        over the new connection and receive it on the other end, close both, answer "c",
 *   'p'  make a socket pair and a bound socket, close all four, answer "p",
 *   'q'  answer "q" and close the connection.
 * Any failure is a report on stderr and exit 1, so the driver sees it at once. */
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kBoundSocket = 3, kAddress = 4, kShmSize = 64 * 1024 };

static char buffer[NACL_ABI_IMC_USER_BYTES_MAX];

static void Reply(int connection, const char *bytes, size_t size, int *descv, size_t count) {
  struct NaClAbiNaClImcMsgIoVec iov = {(void *)bytes, size};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, count, 0};
  if (imc_sendmsg(connection, &header, 0) != (int)size) Fail("soak_module: imc_sendmsg");
}

static void SharedMemory(int connection) {
  int shm = imc_mem_obj_create(kShmSize);
  if (shm < 0) Fail("soak_module: imc_mem_obj_create");
  char *map = mmap(NULL, kShmSize, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
  if (map == MAP_FAILED) Fail("soak_module: mmap");
  memset(map, 'm', kShmSize);
  if (munmap(map, kShmSize) != 0) Fail("soak_module: munmap");
  Reply(connection, "m", 1, &shm, 1);
  if (close(shm) != 0) Fail("soak_module: close shm");
}

static void Dups(int connection) {
  int copies[4];
  copies[0] = dup(connection);
  copies[1] = dup(connection);
  copies[2] = dup2(connection, 100);
  copies[3] = dup2(copies[0], 101);
  for (int i = 0; i < 4; ++i) {
    if (copies[i] < 0) Fail("soak_module: dup");
    if (close(copies[i]) != 0) Fail("soak_module: close a dup");
  }
  Reply(connection, "d", 1, NULL, 0);
}

static void SelfConnect(int connection) {
  int connector = imc_connect(kAddress);
  if (connector < 0) Fail("soak_module: imc_connect");
  int acceptor = imc_accept(kBoundSocket);
  if (acceptor < 0) Fail("soak_module: imc_accept of its own request");
  Reply(connector, "ping", 4, NULL, 0);
  char in[8];
  struct NaClAbiNaClImcMsgIoVec iov = {in, sizeof(in)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  if (imc_recvmsg(acceptor, &header, 0) != 4) Fail("soak_module: imc_recvmsg on itself");
  if (close(connector) != 0 || close(acceptor) != 0) Fail("soak_module: close self connection");
  Reply(connection, "c", 1, NULL, 0);
}

static void Pairs(int connection) {
  int pair[2];
  int bound[2];
  if (imc_socketpair(pair) != 0) Fail("soak_module: imc_socketpair");
  if (imc_makeboundsock(bound) != 0) Fail("soak_module: imc_makeboundsock");
  if (close(pair[0]) || close(pair[1]) || close(bound[0]) || close(bound[1])) {
    Fail("soak_module: close pairs");
  }
  Reply(connection, "p", 1, NULL, 0);
}

/* Answers commands on `connection` until the peer closes or says 'q'. */
static void Serve(int connection) {
  for (;;) {
    int descv[NACL_ABI_IMC_DESC_MAX];
    struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
    struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, NACL_ABI_IMC_DESC_MAX, 0};
    int received = imc_recvmsg(connection, &header, 0);
    if (received < 0) {
      if (errno == EIO) return; /* The peer closed. */
      Fail("soak_module: imc_recvmsg");
    }
    if (received == 0) Fail("soak_module: an empty command");
    switch (buffer[0]) {
      case 'e':
        Reply(connection, buffer, (size_t)received, descv, header.desc_length);
        for (size_t i = 0; i < header.desc_length; ++i) {
          if (descv[i] != -1 && close(descv[i]) != 0) Fail("soak_module: close echoed");
        }
        break;
      case 'm':
        SharedMemory(connection);
        break;
      case 'd':
        Dups(connection);
        break;
      case 'c':
        SelfConnect(connection);
        break;
      case 'p':
        Pairs(connection);
        break;
      case 'q':
        Reply(connection, "q", 1, NULL, 0);
        return;
      default:
        Fail("soak_module: unknown command");
    }
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("soak_module: ready\n");
  for (;;) {
    int connection = imc_accept(kBoundSocket);
    if (connection < 0) Fail("soak_module: imc_accept");
    Serve(connection);
    if (close(connection) != 0) Fail("soak_module: close connection");
  }
}
