/*
 * Native Client's bits/mman.h: mmap's protection and flag bits. Those the NaCl mmap call
 * checks are in <nacl/nacl_abi.h>; all equal Linux's, which a module's libc mmap passes on.
 */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_BITS_MMAN_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_BITS_MMAN_H_

#include <nacl/nacl_abi.h>

#define NACL_ABI_PROT_EXEC 0x4
#define NACL_ABI_PROT_MASK 0x7
#define NACL_ABI_MAP_SHARING_MASK 0x03
#define NACL_ABI_MAP_ANONYMOUS 0x20
#define NACL_ABI_MAP_ANON NACL_ABI_MAP_ANONYMOUS
#define NACL_ABI_MAP_FAILED ((void *)-1)

#endif /* NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_BITS_MMAN_H_ */
