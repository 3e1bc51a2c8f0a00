/* Native Client's bits/nacl_syscalls.h: the NACL_sys_* call numbers the loader serves (see
 * docs/abi.md; numbers NaCl had that are not listed here answer ENOSYS). */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_BITS_NACL_SYSCALLS_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_BITS_NACL_SYSCALLS_H_
#include <nacl/nacl_abi.h>
#endif
