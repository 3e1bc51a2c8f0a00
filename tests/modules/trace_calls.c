/* trace_calls: a few calls with known results, for the -v trace: the NaCl null call, a NaCl
 * number without a call (ENOSYS), a close of an unopened number (EBADF), reads and writes of
 * nothing (0, at once, even if stdin has no input yet), a write of 7 bytes, and an imc_accept
 * on stdout (EINVAL); then exit status 3. */
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <unistd.h>

int main(void) {
  char byte;
  nacl_null();
  nacl_syscall(2, 0, 0, 0, 0, 0, 0);
  close(1000);
  if (read(0, &byte, 0) != 0 || write(1, &byte, 0) != 0) return 1;
  if (write(1, "traced\n", 7) != 7) return 1;
  imc_accept(1);
  return 3;
}
