/* main_thread_exits: the main thread ends with pthread_exit while another thread goes on
 * making calls that read and write its memory (an IMC message to itself and back, stdout).
 * The loader then reaches the module's memory without its main thread.
 *
 * Prints "round trip: <text>" and exits with status 0 from the second thread. */
#include <nacl/imc_syscalls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/modules/report.h"

static pthread_t main_thread;

static void *RoundTrip(void *unused) {
  (void)unused;
  pthread_join(main_thread, NULL); /* Returns once the main thread has exited. */
  usleep(50 * 1000);               /* And its task is gone. */
  int pair[2];
  if (imc_socketpair(pair) != 0) Fail("imc_socketpair");
  char text[] = "hello";
  struct NaClAbiNaClImcMsgIoVec out = {text, sizeof(text)};
  struct NaClAbiNaClImcMsgHdr sent = {&out, 1, NULL, 0, 0};
  if (imc_sendmsg(pair[0], &sent, 0) != (int)sizeof(text)) Fail("imc_sendmsg");
  char buffer[16] = {0};
  struct NaClAbiNaClImcMsgIoVec in = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr received = {&in, 1, NULL, 0, 0};
  if (imc_recvmsg(pair[1], &received, 0) != (int)sizeof(text)) Fail("imc_recvmsg");
  printf("round trip: %s\n", buffer);
  fflush(stdout);
  exit(0);
}

int main(void) {
  main_thread = pthread_self();
  pthread_t thread;
  if (pthread_create(&thread, NULL, RoundTrip, NULL) != 0) Fail("pthread_create");
  pthread_exit(NULL);
}
