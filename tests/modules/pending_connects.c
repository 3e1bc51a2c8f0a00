/* pending_connects N: makes a bound socket and connects to it N times from the main thread
 * without accepting, printing "connected I" after the I-th connect returns. A second thread
 * waits for a line on stdin, then accepts all N and prints "accepted N". sel_ldr caps the
 * requests that may wait unaccepted (--max-pending-connections), so the connect after the cap
 * blocks until the acceptor drains the queue. Exits 0 once every connect returned and every
 * request was accepted. */
#include <nacl/imc_syscalls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/modules/report.h"

static int bound_and_address[2];
static int total;

static void *Acceptor(void *unused) {
  (void)unused;
  char line[64];
  if (fgets(line, sizeof(line), stdin) == NULL) Fail("pending_connects: read the go line");
  for (int i = 0; i < total; ++i) {
    int connection = imc_accept(bound_and_address[0]);
    if (connection < 0) Fail("pending_connects: imc_accept");
    if (close(connection) != 0) Fail("pending_connects: close an accepted connection");
  }
  printf("accepted %d\n", total);
  return NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 2) Fail("usage: pending_connects N");
  total = atoi(argv[1]);
  if (imc_makeboundsock(bound_and_address) != 0) Fail("pending_connects: imc_makeboundsock");
  pthread_t acceptor;
  if (pthread_create(&acceptor, NULL, Acceptor, NULL) != 0) Fail("pending_connects: thread");
  for (int i = 1; i <= total; ++i) {
    int connection = imc_connect(bound_and_address[1]);
    if (connection < 0) Fail("pending_connects: imc_connect");
    printf("connected %d\n", i);
    if (close(connection) != 0) Fail("pending_connects: close a connection");
  }
  if (pthread_join(acceptor, NULL) != 0) Fail("pending_connects: join");
  return 0;
}
