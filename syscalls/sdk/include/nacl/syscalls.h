/*
 * The loader's other calls by their NaCl numbers, for modules that want them directly.
 * Ordinary libc calls (read, write, close, dup, dup2, fstat, mmap, exit) also work: the
 * loader serves them from the same descriptor table.
 */
#ifndef NACL_SYSCALLS_H_
#define NACL_SYSCALLS_H_

#include <nacl/nacl_abi.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Issues NaCl call `number` (NACL_sys_*) with six arguments. Returns the result, or -1 with
 * errno set. */
long nacl_syscall(int number, long a0, long a1, long a2, long a3, long a4, long a5);

int nacl_null(void);
int nacl_dup(int d);
int nacl_dup2(int d, int new_d);
int nacl_close(int d);
ssize_t nacl_read(int d, void *buf, size_t count);
ssize_t nacl_write(int d, const void *buf, size_t count);
int nacl_fstat(int d, struct nacl_abi_stat *st);
int nacl_getpid(void);
/* Ends the module with `status`, whatever its other threads are doing. */
void nacl_exit(int status) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* NACL_SYSCALLS_H_ */
