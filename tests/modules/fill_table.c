/* fill_table MODE: fills the module's descriptor table with shared memory objects (each one
 * host fd in sel_ldr) until a create fails, prints "filled <count> <errno name>", then makes
 * blocking calls from new threads, which sel_ldr must serve with a worker of its own (an
 * eventfd more) or answer with an error, never hang.
 *
 * one: one thread blocks in imc_recvmsg on an imc_socketpair end until the main thread sends
 *   it a message. Prints "received <bytes>".
 * many: 200 threads block in imc_recvmsg on the same end; the main thread sends one message per
 *   thread still waiting. Prints "threads 200 received <r> emfile <e> other <o>". */
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kThreads = 200 };

static int pair[2];
static atomic_int entered;
static atomic_int received;
static atomic_int emfile;
static atomic_int other;

static int Receive(void) {
  char buffer[16];
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  return imc_recvmsg(pair[0], &header, 0);
}

/* Sends one byte without blocking; returns 0 or the errno. */
static int Send(void) {
  char byte = 'x';
  struct NaClAbiNaClImcMsgIoVec iov = {&byte, 1};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  return imc_sendmsg(pair[1], &header, NACL_ABI_IMC_NONBLOCK) == 1 ? 0 : errno;
}

static void *ReceiveOne(void *unused) {
  (void)unused;
  atomic_fetch_add(&entered, 1);
  int n = Receive();
  if (n >= 0) {
    atomic_fetch_add(&received, 1);
  } else if (errno == EMFILE) {
    atomic_fetch_add(&emfile, 1);
  } else {
    printf("imc_recvmsg: %s\n", ErrnoName(errno));
    atomic_fetch_add(&other, 1);
  }
  return NULL;
}

static pthread_t Start(void) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_t thread;
  if (pthread_create(&thread, &attr, ReceiveOne, NULL) != 0) Fail("pthread_create");
  pthread_attr_destroy(&attr);
  return thread;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 2) Fail("usage");
  if (imc_socketpair(pair) != 0) Fail("imc_socketpair");
  int filled = 0;
  while (imc_mem_obj_create(65536) >= 0) ++filled;
  printf("filled %d %s\n", filled, ErrnoName(errno));

  if (strcmp(argv[1], "one") == 0) {
    pthread_t thread = Start();
    while (atomic_load(&entered) == 0) {
    }
    usleep(200 * 1000); /* Let it block in the loader. */
    while (Send() != 0) usleep(1000);
    pthread_join(thread, NULL);
    printf("received %d\n", atomic_load(&received));
    return 0;
  }
  if (strcmp(argv[1], "many") != 0) Fail("unknown mode");
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) threads[i] = Start();
  while (atomic_load(&entered) < kThreads) {
  }
  usleep(500 * 1000); /* Let them block in the loader, or fail. */
  int sent = 0;
  while (atomic_load(&received) + atomic_load(&emfile) + atomic_load(&other) < kThreads) {
    if (sent < kThreads - atomic_load(&emfile) - atomic_load(&other) && Send() == 0) {
      ++sent;
    } else {
      usleep(1000);
    }
  }
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  printf("threads %d received %d emfile %d other %d\n", kThreads, atomic_load(&received),
         atomic_load(&emfile), atomic_load(&other));
  return 0;
}
