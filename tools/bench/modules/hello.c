/* hello: what launch_hello starts: stdio, a thread, and exit status 0. */
#include <pthread.h>
#include <stdio.h>

static void *Greet(void *arg) {
  printf("hello from a thread (%s)\n", (const char *)arg);
  return NULL;
}

int main(void) {
  printf("hello, world\n");
  pthread_t thread;
  if (pthread_create(&thread, NULL, Greet, "pthread") != 0) return 1;
  return pthread_join(thread, NULL) == 0 ? 0 : 1;
}
