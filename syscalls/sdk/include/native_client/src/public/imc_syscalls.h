/* Native Client's path for <nacl/imc_syscalls.h>, so NaCl-era code compiles unmodified. */
#ifndef NATIVE_CLIENT_SRC_PUBLIC_IMC_SYSCALLS_H_
#define NATIVE_CLIENT_SRC_PUBLIC_IMC_SYSCALLS_H_
#include <nacl/imc_syscalls.h>
#endif
