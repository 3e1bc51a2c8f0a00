/*
 * Native Client's machine/_types.h: the nacl_abi_* types of the ABI structures. NaCl's
 * untrusted ABI was ILP32; this one is LP64 (pointers and sizes native 64-bit, see
 * docs/abi.md), so the word-sized types are 64 bits wide and match struct nacl_abi_stat.
 */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_MACHINE__TYPES_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_MACHINE__TYPES_H_

#include <stddef.h>
#include <stdint.h>

#define NACL_ABI_WORDSIZE 64

typedef int64_t nacl_abi_dev_t;
typedef uint64_t nacl_abi_ino_t;
typedef uint32_t nacl_abi_mode_t;
typedef uint32_t nacl_abi_nlink_t;
typedef uint32_t nacl_abi_uid_t;
typedef uint32_t nacl_abi_gid_t;
typedef int64_t nacl_abi_off_t;
typedef int64_t nacl_abi_off64_t;
typedef int32_t nacl_abi_blksize_t;
typedef int32_t nacl_abi_blkcnt_t;
typedef int64_t nacl_abi_time_t;
typedef int64_t nacl_abi_suseconds_t;
typedef int64_t nacl_abi_clock_t;
typedef size_t nacl_abi_size_t;
typedef int64_t nacl_abi_ssize_t;

#define NACL_ABI_SIZE_T_MIN ((nacl_abi_size_t)0)
#define NACL_ABI_SIZE_T_MAX ((nacl_abi_size_t)-1)
#define NACL_ABI_SSIZE_T_MIN INT64_MIN
#define NACL_ABI_SSIZE_T_MAX INT64_MAX
#define NACL_ABI_OFF_T_MIN INT64_MIN
#define NACL_ABI_OFF_T_MAX INT64_MAX
#define NACL_ABI_TIME_T_MIN INT64_MIN
#define NACL_ABI_TIME_T_MAX INT64_MAX

/* In a module size_t and nacl_abi_size_t are the same type: these convert nothing. */
#define nacl_abi_size_t_saturate(x) (x)
#define nacl_abi_ssize_t_saturate(x) (x)

#endif /* NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_MACHINE__TYPES_H_ */
