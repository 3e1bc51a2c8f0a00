/* hello: stdio from inside the sandbox, a thread, malloc, and an exit status. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *Greet(void *arg) {
  printf("hello from a thread (%s)\n", (const char *)arg);
  return NULL;
}

int main(int argc, char **argv) {
  printf("hello, world\n");
  for (int i = 1; i < argc; ++i) printf("arg %d: %s\n", i, argv[i]);
  pthread_t thread;
  if (pthread_create(&thread, NULL, Greet, "pthread") != 0) return 1;
  pthread_join(thread, NULL);
  const char *status = getenv("HELLO_STATUS");
  return status != NULL ? atoi(status) : 0;
}
