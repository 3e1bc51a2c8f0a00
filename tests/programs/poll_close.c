/* A poll blocked in one thread must not hold up another thread's calls, and closing the
 * descriptor it waits on ends it with POLLNVAL (sel_ldr's documented behaviour; Linux would
 * go on waiting). Prints one line per step. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/programs/channel.h"

static int pipe_fds[2];
static volatile int poll_result = -2;
static volatile short poll_revents;

static void *poller(void *arg) {
  (void)arg;
  struct pollfd p = {pipe_fds[0], POLLIN, 0};
  poll_result = poll(&p, 1, -1);
  poll_revents = p.revents;
  return NULL;
}

int main(void) {
  if (pipe(pipe_fds) != 0) return 1;
  pthread_t thread;
  pthread_create(&thread, NULL, poller, NULL);
  usleep(100 * 1000); /* Let the poll block. */
  /* Other calls of this thread are served meanwhile. */
  int pair[2];
  char buffer[8] = {0};
  int ok = channel_pair(pair) == 0 && channel_send(pair[0], "ping", 4) == 4 &&
           channel_recv(pair[1], buffer, sizeof(buffer)) == 4 && strcmp(buffer, "ping") == 0;
  printf("calls served while polling: %s, poll still waiting: %s\n", ok ? "yes" : "no",
         poll_result == -2 ? "yes" : "no");
  fflush(stdout);
  close(pipe_fds[0]);
  pthread_join(thread, NULL);
  printf("poll after close: %d, POLLNVAL: %s\n", poll_result,
         (poll_revents & POLLNVAL) ? "yes" : "no");
  return 0;
}
