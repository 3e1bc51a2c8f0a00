/* Native Client's path for <sys/nacl_syscalls.h>, so NaCl-era code compiles unmodified. */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_NACL_SYSCALLS_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_NACL_SYSCALLS_H_
#include <sys/nacl_syscalls.h>
#endif
