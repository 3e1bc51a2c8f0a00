/* sleep_forever: prints "pid <pid>" and then waits forever, in a plain sleep ("sleep") or
 * blocked in imc_accept inside the loader ("accept"). Used to check that the module dies
 * when sel_ldr does. */
#include <nacl/imc_syscalls.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/modules/report.h"

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *how = argc > 1 ? argv[1] : "sleep";
  int bound[2];
  if (strcmp(how, "accept") == 0 && imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
  printf("pid %d\n", getpid());
  for (;;) {
    if (strcmp(how, "accept") == 0) {
      imc_accept(bound[0]);
    } else {
      sleep(1000);
    }
  }
}
