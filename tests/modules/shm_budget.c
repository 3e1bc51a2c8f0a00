/* shm_budget: shared memory counts against the module's memory limit (sel_ldr
 * --memory-limit), and what the module no longer holds is given back.
 *
 * Makes 16 MiB objects, maps each, touches every page, unmaps it and keeps the descriptor,
 * until imc_mem_obj_create fails: prints "hoarded <n> MiB: <errno>". Closes them all with
 * libc's close() and hoards again: "hoarded again <n> MiB: <errno>". Then maps one object,
 * closes it with the NaCl close call (not the kernel's) and prints "placed at <d> pid <pid>",
 * and waits for a line on stdin (the test looks at what the process holds at <d>). */
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kObject = 16 << 20, kMaxObjects = 1024 };

static int objects[kMaxObjects];

/* Maps `d`, writes every page, unmaps it. */
static void Touch(int d) {
  char *mapped = mmap(NULL, kObject, PROT_READ | PROT_WRITE, MAP_SHARED, d, 0);
  if (mapped == MAP_FAILED) Fail("mmap");
  for (size_t offset = 0; offset < kObject; offset += 4096) mapped[offset] = 1;
  if (munmap(mapped, kObject) != 0) Fail("munmap");
}

/* Returns how many objects were made before the first failure (errno set). */
static int Hoard(void) {
  int count = 0;
  while (count < kMaxObjects) {
    int d = imc_mem_obj_create(kObject);
    if (d < 0) break;
    Touch(d);
    objects[count++] = d;
  }
  return count;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int count = Hoard();
  printf("hoarded %d MiB: %s\n", count * 16, ErrnoName(errno));
  for (int i = 0; i < count; ++i) {
    if (close(objects[i]) != 0) Fail("close");
  }
  count = Hoard();
  printf("hoarded again %d MiB: %s\n", count * 16, ErrnoName(errno));
  for (int i = 0; i < count; ++i) {
    if (nacl_close(objects[i]) != 0) Fail("nacl_close");
  }
  int d = imc_mem_obj_create(kObject);
  if (d < 0) Fail("imc_mem_obj_create after closing all");
  Touch(d);
  if (nacl_close(d) != 0) Fail("nacl_close");
  printf("placed at %d pid %d\n", d, nacl_getpid());
  char line[16];
  if (read(0, line, sizeof(line)) <= 0) Fail("read");
  return 0;
}
