/* grant_hops: passes HostIo descriptor D around N times ("hops": sent in an IMC message and
 * received back), then tries to read and to write through what came back.
 *
 *   grant_hops D N self    each hop goes over a connected pair of the module's own
 *                          (imc_makeboundsock, connect, accept): through its own supervisor
 *   grant_hops D N peer    accepts one connection on its service socket (sel_ldr -X); each
 *                          hop goes to that peer, which is to send the descriptor back
 *   grant_hops D N relay   accepts one connection on its service socket, receives a
 *                          SocketAddress on it, connects there (e.g. to echo_server in another
 *                          sel_ldr) and sends each hop through that connection
 *
 * Then it reads one byte, writes "X" and fstats the descriptor, and prints one line:
 *   hops=N read=<ok|errno name> write=<...> fstat=<...> */
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kBoundSocket = 3 };

static void SendOne(int socket, int descriptor) {
  int descv[1] = {descriptor};
  struct NaClAbiNaClImcMsgIoVec iov = {"hop", 3};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, 1, 0};
  if (imc_sendmsg(socket, &header, 0) != 3) Fail("grant_hops: imc_sendmsg");
}

/* Receives one message on `socket` that carries exactly one descriptor, and returns it. */
static int ReceiveOne(int socket) {
  char buffer[16];
  int descv[1] = {-1};
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, 1, 0};
  if (imc_recvmsg(socket, &header, 0) < 0) Fail("grant_hops: imc_recvmsg");
  if (header.desc_length != 1 || descv[0] < 0) {
    errno = EPROTO;
    Fail("grant_hops: a message without its descriptor");
  }
  return descv[0];
}

/* A connected pair of the module's own: out[0] from connect, out[1] from accept. */
static void OwnPair(int out[2]) {
  int bound[2];
  if (imc_makeboundsock(bound) != 0) Fail("grant_hops: imc_makeboundsock");
  out[0] = imc_connect(bound[1]);
  if (out[0] < 0) Fail("grant_hops: imc_connect");
  out[1] = imc_accept(bound[0]);
  if (out[1] < 0) Fail("grant_hops: imc_accept");
  close(bound[0]);
  close(bound[1]);
}

static const char *Outcome(long result) { return ErrnoName(result < 0 ? errno : 0); }

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 4) {
    fprintf(stderr, "usage: grant_hops D N self|peer|relay\n");
    return 2;
  }
  int descriptor = atoi(argv[1]);
  const int hops = atoi(argv[2]);
  const char *route = argv[3];
  int to = -1;
  int from = -1;
  if (strcmp(route, "self") == 0) {
    int pair[2];
    OwnPair(pair);
    to = pair[0];
    from = pair[1];
  } else if (strcmp(route, "peer") == 0) {
    to = from = imc_accept(kBoundSocket);
    if (to < 0) Fail("grant_hops: imc_accept on the service socket");
  } else if (strcmp(route, "relay") == 0) {
    int embedder = imc_accept(kBoundSocket);
    if (embedder < 0) Fail("grant_hops: imc_accept on the service socket");
    int address = ReceiveOne(embedder);
    to = from = imc_connect(address);
    if (to < 0) Fail("grant_hops: imc_connect to the relay");
    close(address);
    close(embedder);
  } else {
    fprintf(stderr, "grant_hops: unknown route %s\n", route);
    return 2;
  }

  for (int hop = 0; hop < hops; ++hop) {
    SendOne(to, descriptor);
    if (close(descriptor) != 0) Fail("grant_hops: close the sent descriptor");
    descriptor = ReceiveOne(from);
  }

  char byte;
  errno = 0;
  const char *read_outcome = Outcome(read(descriptor, &byte, 1));
  errno = 0;
  const char *write_outcome = Outcome(write(descriptor, "X", 1));
  struct stat st;
  errno = 0;
  const char *fstat_outcome = Outcome(fstat(descriptor, &st));
  printf("hops=%d read=%s write=%s fstat=%s\n", hops, read_outcome, write_outcome, fstat_outcome);
  return 0;
}
