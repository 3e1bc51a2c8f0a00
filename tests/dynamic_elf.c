/* A dynamically linked program (it needs ld.so): sel_ldr must refuse to run it. */
#include <stdio.h>

int main(void) {
  puts("a dynamically linked program ran");
  return 0;
}
