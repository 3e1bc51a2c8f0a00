/*
 * The untrusted ABI shared by the loader and modules: syscall numbers, the IMC message
 * structures, limits, flags and errno values. C and C++, trusted and untrusted.
 *
 * Numbers, names and values follow Native Client's service runtime (its public headers
 * imc_syscalls.h, imc_types.h and bits/nacl_syscalls.h) so that NaCl-era untrusted code
 * compiles and behaves the same. Pointers and sizes are native 64-bit. See ../shared/ABI.md.
 */
#ifndef SYSCALLS_NACL_ABI_H_
#define SYSCALLS_NACL_ABI_H_

#include <stddef.h>
#include <stdint.h>

/*
 * A module issues NaCl call N as Linux syscall(NACL_ABI_SYSCALL_BASE + N, ...). The base lies
 * far beyond Linux's syscall table (so the kernel alone would answer ENOSYS) and below the
 * x32 bit 0x40000000 (which the loader's filter rejects).
 */
#define NACL_ABI_SYSCALL_BASE 0x0F000000
#define NACL_ABI_SYSCALL_COUNT 128 /* numbers 0..127 exist; unknown ones are ENOSYS */

#define NACL_sys_null 1
#define NACL_sys_dup 8
#define NACL_sys_dup2 9
#define NACL_sys_close 11
#define NACL_sys_read 12
#define NACL_sys_write 13
#define NACL_sys_fstat 17
#define NACL_sys_mmap 21
#define NACL_sys_munmap 22
#define NACL_sys_exit 30
#define NACL_sys_getpid 31
#define NACL_sys_imc_makeboundsock 60
#define NACL_sys_imc_accept 61
#define NACL_sys_imc_connect 62
#define NACL_sys_imc_sendmsg 63
#define NACL_sys_imc_recvmsg 64
#define NACL_sys_imc_mem_obj_create 65
#define NACL_sys_imc_socketpair 66

/* IMC limits. */
#define NACL_ABI_IMC_IOVEC_MAX 256
#define NACL_ABI_IMC_USER_DESC_MAX 8
#define NACL_ABI_IMC_DESC_MAX 8
#define NACL_ABI_IMC_USER_BYTES_MAX 131072

/* Set in NaClAbiNaClImcMsgHdr.flags by imc_recvmsg. */
#define NACL_ABI_RECVMSG_DATA_TRUNCATED 0x1
#define NACL_ABI_RECVMSG_DESC_TRUNCATED 0x2

/* The flags argument of imc_sendmsg / imc_recvmsg. */
#define NACL_ABI_IMC_NONBLOCK 0x1

/* The descriptor table holds descriptors 0 .. NACL_ABI_DESCRIPTOR_TABLE_SIZE - 1. */
#define NACL_ABI_DESCRIPTOR_TABLE_SIZE 4096

/* imc_mem_obj_create sizes and mmap lengths and offsets are multiples of this. */
#define NACL_ABI_MAP_PAGESIZE 65536

/* mmap of a SharedMemory descriptor. */
#define NACL_ABI_PROT_NONE 0x0
#define NACL_ABI_PROT_READ 0x1
#define NACL_ABI_PROT_WRITE 0x2
#define NACL_ABI_MAP_SHARED 0x01
#define NACL_ABI_MAP_PRIVATE 0x02
#define NACL_ABI_MAP_FIXED 0x10

/* Errno values (Linux's). */
#define NACL_ABI_EPERM 1
#define NACL_ABI_ENOENT 2
#define NACL_ABI_EINTR 4
#define NACL_ABI_EIO 5
#define NACL_ABI_EBADF 9
#define NACL_ABI_EAGAIN 11
#define NACL_ABI_ENOMEM 12
#define NACL_ABI_EACCES 13
#define NACL_ABI_EFAULT 14
#define NACL_ABI_ENODEV 19
#define NACL_ABI_EINVAL 22
#define NACL_ABI_ENFILE 23
#define NACL_ABI_EMFILE 24
#define NACL_ABI_EPIPE 32
#define NACL_ABI_ENOSYS 38
#define NACL_ABI_EOVERFLOW 75
#define NACL_ABI_EMSGSIZE 90

/* st_mode kinds that fstat reports for IMC objects. */
#define NACL_ABI_S_IFMT 0370000
#define NACL_ABI_S_IFSHM 0240000
#define NACL_ABI_S_IFBOUNDSOCK 0230000
#define NACL_ABI_S_IFSOCKADDR 0220000
#define NACL_ABI_S_IFDSOCK 0210000
#define NACL_ABI_S_IFSOCK 0140000
#define NACL_ABI_S_IFREG 0100000
#define NACL_ABI_S_IFDIR 0040000
#define NACL_ABI_S_IFCHR 0020000
#define NACL_ABI_S_IFIFO 0010000

/* What fstat reports for every descriptor in place of host identity: one inode number
 * (Native Client's NACL_FAKE_INODE_NUM, "NaCl"), device 0, and owner and group -1. */
#define NACL_ABI_FAKE_INODE_NUM 0x6c43614e

struct NaClAbiNaClImcMsgIoVec {
  void *base;
  size_t length;
};

struct NaClAbiNaClImcMsgHdr {
  struct NaClAbiNaClImcMsgIoVec *iov;
  size_t iov_length;
  int *descv;
  size_t desc_length;
  int flags;
};

struct nacl_abi_stat {
  int64_t nacl_abi_st_dev;
  uint64_t nacl_abi_st_ino;
  uint32_t nacl_abi_st_mode;
  uint32_t nacl_abi_st_nlink;
  uint32_t nacl_abi_st_uid;
  uint32_t nacl_abi_st_gid;
  int64_t nacl_abi_st_rdev;
  int64_t nacl_abi_st_size;
  int32_t nacl_abi_st_blksize;
  int32_t nacl_abi_st_blocks;
  int64_t nacl_abi_st_atime;
  int64_t nacl_abi_st_atimensec;
  int64_t nacl_abi_st_mtime;
  int64_t nacl_abi_st_mtimensec;
  int64_t nacl_abi_st_ctime;
  int64_t nacl_abi_st_ctimensec;
};

#if defined(__cplusplus)
#define NACL_ABI_STATIC_ASSERT static_assert
#else
#define NACL_ABI_STATIC_ASSERT _Static_assert
#endif

NACL_ABI_STATIC_ASSERT(sizeof(void *) == 8, "the ABI is LP64");
NACL_ABI_STATIC_ASSERT(sizeof(struct NaClAbiNaClImcMsgIoVec) == 16, "iovec layout");
NACL_ABI_STATIC_ASSERT(offsetof(struct NaClAbiNaClImcMsgIoVec, length) == 8, "iovec layout");
NACL_ABI_STATIC_ASSERT(sizeof(struct NaClAbiNaClImcMsgHdr) == 40, "header layout");
NACL_ABI_STATIC_ASSERT(offsetof(struct NaClAbiNaClImcMsgHdr, iov_length) == 8, "header layout");
NACL_ABI_STATIC_ASSERT(offsetof(struct NaClAbiNaClImcMsgHdr, descv) == 16, "header layout");
NACL_ABI_STATIC_ASSERT(offsetof(struct NaClAbiNaClImcMsgHdr, desc_length) == 24, "header layout");
NACL_ABI_STATIC_ASSERT(offsetof(struct NaClAbiNaClImcMsgHdr, flags) == 32, "header layout");
NACL_ABI_STATIC_ASSERT(sizeof(struct nacl_abi_stat) == 104, "stat layout");
NACL_ABI_STATIC_ASSERT(offsetof(struct nacl_abi_stat, nacl_abi_st_mode) == 16, "stat layout");
NACL_ABI_STATIC_ASSERT(offsetof(struct nacl_abi_stat, nacl_abi_st_size) == 40, "stat layout");
NACL_ABI_STATIC_ASSERT(NACL_ABI_SYSCALL_BASE + NACL_ABI_SYSCALL_COUNT < 0x40000000,
                       "below the x32 bit");

#undef NACL_ABI_STATIC_ASSERT

#endif /* SYSCALLS_NACL_ABI_H_ */
