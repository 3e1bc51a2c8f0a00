/*
 * Native Client's sys/errno.h: the NACL_ABI_E* error numbers. They are Linux's (NaCl's were
 * newlib's); those the IMC calls return are in <nacl/nacl_abi.h>, the rest are the ones
 * docs/abi.md lists for answered Linux calls.
 */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_ERRNO_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_ERRNO_H_

#include <nacl/nacl_abi.h>

#define NACL_ABI_ESRCH 3
#define NACL_ABI_E2BIG 7
#define NACL_ABI_ECHILD 10
#define NACL_ABI_EWOULDBLOCK NACL_ABI_EAGAIN
#define NACL_ABI_EBUSY 16
#define NACL_ABI_EEXIST 17
#define NACL_ABI_EXDEV 18
#define NACL_ABI_ENOTDIR 20
#define NACL_ABI_EISDIR 21
#define NACL_ABI_ENOTTY 25
#define NACL_ABI_EFBIG 27
#define NACL_ABI_ENOSPC 28
#define NACL_ABI_ESPIPE 29
#define NACL_ABI_EROFS 30
#define NACL_ABI_EMLINK 31
#define NACL_ABI_ERANGE 34
#define NACL_ABI_ENAMETOOLONG 36
#define NACL_ABI_ENOTEMPTY 39
#define NACL_ABI_ELOOP 40
#define NACL_ABI_ENOTSOCK 88
#define NACL_ABI_EOPNOTSUPP 95
#define NACL_ABI_ENOTSUP NACL_ABI_EOPNOTSUPP
#define NACL_ABI_ENOBUFS 105
#define NACL_ABI_ETIMEDOUT 110

#endif /* NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_ERRNO_H_ */
