/* receiver_fairness MODE: one module thread makes a call that the loader could take long to
 * serve, while another makes trivial calls; no call of one thread may hold up the other's.
 *
 * accept: waits for a line on stdin (the test queues a flood of malformed connection requests
 *   and then one real one on the -X service socket first), then imc_accept(3) while a second
 *   thread measures nacl_null calls. Prints "accepted" and "calls <n> worst_us <us>".
 * recv: the same with imc_recvmsg(6) (sel_ldr -i) behind a flood of accept acknowledgements.
 *   Prints "received <bytes>" and the calls line.
 * write: writes 1 MiB (bytes i % 251) to HostIo descriptor 5 (sel_ldr -w, a pipe the test
 *   does not drain yet). Meanwhile a second thread reads a line from stdin (the test sends it
 *   once the pipe is full), makes 100 nacl_null calls and prints "100 calls took <us>". The
 *   first thread prints "wrote 1048576", then writes another 1 MiB; the second thread reads
 *   one more line and closes descriptor 5, which must end that write: "second write: <errno
 *   name> after <bytes>". */
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kBoundSocket = 3, kPipe = 5, kChannel = 6 };
enum { kChunk = 1 << 20 };

static atomic_int started;
static atomic_int done;
static unsigned char data[kChunk];

static long long NowUs(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static void ReadLine(void) {
  char line[64];
  if (read(0, line, sizeof(line)) <= 0) Fail("read stdin");
}

/* Until `done`: nacl_null calls, each timed, 0.1 ms apart; prints how many and the slowest. */
static void *MeasureCalls(void *unused) {
  (void)unused;
  long calls = 0;
  long long worst = 0;
  do {
    long long start = NowUs();
    if (nacl_null() != 0) Fail("nacl_null");
    long long took = NowUs() - start;
    if (took > worst) worst = took;
    ++calls;
    atomic_store(&started, 1);
    /* Leave the CPUs to the loader's threads: a call is timed, not the time between. */
    usleep(100);
  } while (!atomic_load(&done));
  printf("calls %ld worst_us %lld\n", calls, worst);
  return NULL;
}

/* Runs `call` in this thread while another thread measures trivial calls. */
static void WhileMeasuring(void (*call)(void)) {
  pthread_t measure;
  if (pthread_create(&measure, NULL, MeasureCalls, NULL) != 0) Fail("pthread_create");
  while (!atomic_load(&started)) {
  }
  call();
  atomic_store(&done, 1);
  pthread_join(measure, NULL);
}

static void Accept(void) {
  int connection = imc_accept(kBoundSocket);
  if (connection < 0) Fail("imc_accept");
  printf("accepted\n");
}

static void Receive(void) {
  char buffer[64];
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  int n = imc_recvmsg(kChannel, &header, 0);
  if (n < 0) Fail("imc_recvmsg");
  printf("received %d\n", n);
}

static void *CallsThenClose(void *unused) {
  (void)unused;
  ReadLine();
  long long start = NowUs();
  for (int i = 0; i < 100; ++i) {
    if (nacl_null() != 0) Fail("nacl_null");
  }
  printf("100 calls took %lld\n", NowUs() - start);
  ReadLine();
  if (close(kPipe) != 0) Fail("close");
  return NULL;
}

/* Writes all of `data` to the pipe; returns the bytes written, errno set if fewer. */
static size_t WriteAll(void) {
  size_t written = 0;
  while (written < sizeof(data)) {
    ssize_t n = write(kPipe, data + written, sizeof(data) - written);
    if (n < 0) break;
    written += (size_t)n;
  }
  return written;
}

static void WriteToFullPipe(void) {
  for (size_t i = 0; i < sizeof(data); ++i) data[i] = (unsigned char)(i % 251);
  pthread_t other;
  if (pthread_create(&other, NULL, CallsThenClose, NULL) != 0) Fail("pthread_create");
  size_t written = WriteAll();
  if (written != sizeof(data)) Fail("write");
  printf("wrote %zu\n", written);
  errno = 0;
  written = WriteAll();
  printf("second write: %s after %zu\n", ErrnoName(errno), written);
  pthread_join(other, NULL);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 2) Fail("usage");
  if (strcmp(argv[1], "accept") == 0) {
    ReadLine();
    WhileMeasuring(Accept);
  } else if (strcmp(argv[1], "recv") == 0) {
    ReadLine();
    WhileMeasuring(Receive);
  } else if (strcmp(argv[1], "write") == 0) {
    WriteToFullPipe();
  } else {
    Fail("unknown mode");
  }
  return 0;
}
