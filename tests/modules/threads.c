/* threads: one thread blocked in imc_accept (on the -X service socket, descriptor 3), one in
 * imc_recvmsg (on ConnectedSocket 6, from sel_ldr -i), and one doing I/O while the other two
 * stay blocked: it reads a line from stdin, then writes to stdout and to HostIo descriptor 5
 * (sel_ldr -w). Then the module exits with status 7, its two calls still blocked.
 *
 * It prints "pid <pid>" first; the test waits until it sees both calls blocked in the loader
 * before it writes the line the I/O thread waits for. `threads nacl_exit` ends with the NaCl
 * exit call instead of libc's exit(). */
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kBoundSocket = 3, kHostOut = 5, kConnection = 6 };

static void *BlockInAccept(void *unused) {
  (void)unused;
  int connection = imc_accept(kBoundSocket);
  printf("imc_accept returned %d\n", connection);
  return NULL;
}

static void *BlockInReceive(void *unused) {
  (void)unused;
  char buffer[16];
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  int n = imc_recvmsg(kConnection, &header, 0);
  printf("imc_recvmsg returned %d\n", n);
  return NULL;
}

static void *DoIo(void *unused) {
  (void)unused;
  char line[64];
  ssize_t n = read(0, line, sizeof(line) - 1);
  if (n <= 0) Fail("read stdin");
  line[n] = '\0';
  line[strcspn(line, "\n")] = '\0';
  printf("io: read '%s'\n", line);
  const char text[] = "io: wrote to descriptor 5\n";
  if (write(kHostOut, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1)) {
    Fail("write descriptor 5");
  }
  printf("io: done\n");
  return NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("pid %d\n", getpid());
  pthread_t acceptor;
  pthread_t receiver;
  pthread_t io;
  if (pthread_create(&acceptor, NULL, BlockInAccept, NULL) != 0 ||
      pthread_create(&receiver, NULL, BlockInReceive, NULL) != 0 ||
      pthread_create(&io, NULL, DoIo, NULL) != 0) {
    Fail("pthread_create");
  }
  pthread_join(io, NULL);
  printf("exiting with imc_accept and imc_recvmsg blocked\n");
  if (argc > 1 && strcmp(argv[1], "nacl_exit") == 0) nacl_exit(7);
  exit(7);
}
