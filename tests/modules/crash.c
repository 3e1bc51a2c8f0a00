/* crash: ends badly in the way its argument names: "segv" writes through a null pointer,
 * "abort" calls abort(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *how = argc > 1 ? argv[1] : "";
  printf("crash: %s\n", how);
  if (strcmp(how, "segv") == 0) {
    *(volatile int *)NULL = 1;
  } else if (strcmp(how, "abort") == 0) {
    abort();
  }
  printf("crash: unknown way '%s'\n", how);
  return 2;
}
