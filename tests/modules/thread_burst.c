/* thread_burst: exercises the loader's thread budget and its workers.
 *
 *   thread_burst limit      creates threads (each sleeps) until pthread_create fails, then
 *                           prints "created <n> threads: <errno name>" and exits 0.
 *   thread_burst burst N    starts N threads that each block in a 1 MiB read of
 *                           descriptor 5 (a pipe from sel_ldr -r 5:D) and N that block in
 *                           imc_recvmsg on an imc_socketpair, prints "blocked"; on a line from
 *                           stdin sends N messages, waits for the reads to end (the test
 *                           closes the pipe), joins all, prints "released"; on another line
 *                           from stdin exits 0. */
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/modules/report.h"

static int pair[2];

static void *Sleep(void *unused) {
  (void)unused;
  for (;;) sleep(1000);
  return NULL;
}

static void *Receive(void *unused) {
  (void)unused;
  char byte;
  struct NaClAbiNaClImcMsgIoVec iov = {&byte, 1};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  if (imc_recvmsg(pair[1], &header, 0) != 1) Fail("imc_recvmsg");
  return NULL;
}

static void *Read(void *unused) {
  (void)unused;
  char *buffer = malloc(1 << 20);
  if (buffer == NULL) Fail("malloc");
  while (read(5, buffer, 1 << 20) > 0) {
  }
  free(buffer);
  return NULL;
}

static void WaitForLine(void) {
  char line[16];
  if (read(0, line, sizeof(line)) <= 0) Fail("read a line from stdin");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 2 && strcmp(argv[1], "limit") == 0) {
    int created = 0;
    for (;;) {
      pthread_t thread;
      int error = pthread_create(&thread, NULL, Sleep, NULL);
      if (error != 0) {
        printf("created %d threads: %s\n", created, ErrnoName(error));
        return 0;
      }
      ++created;
    }
  }
  if (argc >= 3 && strcmp(argv[1], "burst") == 0) {
    int count = atoi(argv[2]);
    pthread_t *threads = calloc((size_t)count * 2, sizeof(pthread_t));
    if (threads == NULL || imc_socketpair(pair) != 0) Fail("set up");
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    for (int i = 0; i < count; ++i) {
      if (pthread_create(&threads[i], &attributes, Receive, NULL) != 0 ||
          pthread_create(&threads[count + i], &attributes, Read, NULL) != 0) {
        Fail("pthread_create");
      }
    }
    printf("blocked\n");
    WaitForLine();
    char byte = 'x';
    struct NaClAbiNaClImcMsgIoVec iov = {&byte, 1};
    struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
    for (int i = 0; i < count; ++i) {
      if (imc_sendmsg(pair[0], &header, 0) != 1) Fail("imc_sendmsg");
    }
    for (int i = 0; i < 2 * count; ++i) pthread_join(threads[i], NULL);
    printf("released\n");
    WaitForLine();
    return 0;
  }
  printf("usage: thread_burst limit | burst N\n");
  return 2;
}
