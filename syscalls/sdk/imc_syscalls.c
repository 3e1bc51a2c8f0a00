/*
 * The untrusted side of the ABI: each call is the Linux syscall NACL_ABI_SYSCALL_BASE + N,
 * which the loader's seccomp filter hands to the supervisor. A negative result becomes errno
 * and -1.
 */
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <sys/nacl_syscalls.h>

static long Call(int number, long a0, long a1, long a2, long a3, long a4, long a5) {
  register long r10 __asm__("r10") = a3;
  register long r8 __asm__("r8") = a4;
  register long r9 __asm__("r9") = a5;
  long result;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "0"((long)NACL_ABI_SYSCALL_BASE + number), "D"(a0), "S"(a1), "d"(a2), "r"(r10),
                     "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  if (result < 0 && result > -4096) {
    errno = (int)-result;
    return -1;
  }
  return result;
}

long nacl_syscall(int number, long a0, long a1, long a2, long a3, long a4, long a5) {
  return Call(number, a0, a1, a2, a3, a4, a5);
}

int imc_makeboundsock(int sock_and_addr[2]) {
  return (int)Call(NACL_sys_imc_makeboundsock, (long)sock_and_addr, 0, 0, 0, 0, 0);
}

int imc_accept(int d) { return (int)Call(NACL_sys_imc_accept, d, 0, 0, 0, 0, 0); }

int imc_connect(int d) { return (int)Call(NACL_sys_imc_connect, d, 0, 0, 0, 0, 0); }

int imc_sendmsg(int d, const struct NaClAbiNaClImcMsgHdr *nmhp, int flags) {
  return (int)Call(NACL_sys_imc_sendmsg, d, (long)nmhp, flags, 0, 0, 0);
}

int imc_recvmsg(int d, struct NaClAbiNaClImcMsgHdr *nmhp, int flags) {
  return (int)Call(NACL_sys_imc_recvmsg, d, (long)nmhp, flags, 0, 0, 0);
}

int imc_mem_obj_create(size_t nbytes) {
  return (int)Call(NACL_sys_imc_mem_obj_create, (long)nbytes, 0, 0, 0, 0, 0);
}

int imc_socketpair(int sock_pair[2]) {
  return (int)Call(NACL_sys_imc_socketpair, (long)sock_pair, 0, 0, 0, 0, 0);
}

int nacl_null(void) { return (int)Call(NACL_sys_null, 0, 0, 0, 0, 0, 0); }
void null_syscall(void) { Call(NACL_sys_null, 0, 0, 0, 0, 0, 0); }
int nacl_dup(int d) { return (int)Call(NACL_sys_dup, d, 0, 0, 0, 0, 0); }
int nacl_dup2(int d, int new_d) { return (int)Call(NACL_sys_dup2, d, new_d, 0, 0, 0, 0); }
int nacl_close(int d) { return (int)Call(NACL_sys_close, d, 0, 0, 0, 0, 0); }

ssize_t nacl_read(int d, void *buf, size_t count) {
  return Call(NACL_sys_read, d, (long)buf, (long)count, 0, 0, 0);
}

ssize_t nacl_write(int d, const void *buf, size_t count) {
  return Call(NACL_sys_write, d, (long)buf, (long)count, 0, 0, 0);
}

int nacl_fstat(int d, struct nacl_abi_stat *st) {
  return (int)Call(NACL_sys_fstat, d, (long)st, 0, 0, 0, 0);
}

int nacl_getpid(void) { return (int)Call(NACL_sys_getpid, 0, 0, 0, 0, 0, 0); }

void nacl_exit(int status) {
  Call(NACL_sys_exit, status, 0, 0, 0, 0, 0);
  for (;;) {
    /* The loader ends the module; nothing returns here. */
  }
}
