/*
 * Native Client's <sys/nacl_syscalls.h>: the service runtime calls that NaCl-era modules
 * declare through it, as far as they exist here: null_syscall, the IMC calls (with their
 * types) and sched_yield. NaCl's file calls (open, read, mmap, ...) come from libc here, and
 * srpc_get_fd (sel_ldr -P), sysbrk and thread_exit have no counterpart: a module uses
 * malloc and pthread_exit.
 */
#ifndef SYS_NACL_SYSCALLS_H_
#define SYS_NACL_SYSCALLS_H_

#include <nacl/imc_syscalls.h>
#include <nacl/imc_types.h>
#include <nacl/syscalls.h>
#include <sched.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* NaCl's null call (NACL_sys_null), for measuring the cost of a trapped call. */
void null_syscall(void);

#ifdef __cplusplus
}
#endif

#endif /* SYS_NACL_SYSCALLS_H_ */
