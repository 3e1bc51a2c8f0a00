/*
 * Native Client's sys/stat.h: struct nacl_abi_stat (what NACL_sys_fstat writes; defined in
 * <nacl/nacl_abi.h>), the st_mode kinds, including IMC's, and the permission bits.
 */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_STAT_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_STAT_H_

#include <nacl/nacl_abi.h>

#include "native_client/src/trusted/service_runtime/include/machine/_types.h"

#define NACL_ABI_S_ISUID 04000
#define NACL_ABI_S_ISGID 02000
#define NACL_ABI_S_ISVTX 01000
#define NACL_ABI_S_IRWXU 00700
#define NACL_ABI_S_IRUSR 00400
#define NACL_ABI_S_IWUSR 00200
#define NACL_ABI_S_IXUSR 00100
#define NACL_ABI_S_IRWXG 00070
#define NACL_ABI_S_IRGRP 00040
#define NACL_ABI_S_IWGRP 00020
#define NACL_ABI_S_IXGRP 00010
#define NACL_ABI_S_IRWXO 00007
#define NACL_ABI_S_IROTH 00004
#define NACL_ABI_S_IWOTH 00002
#define NACL_ABI_S_IXOTH 00001

#define NACL_ABI_S_ISSOCK(m) (((m)&NACL_ABI_S_IFMT) == NACL_ABI_S_IFSOCK)
#define NACL_ABI_S_ISREG(m) (((m)&NACL_ABI_S_IFMT) == NACL_ABI_S_IFREG)
#define NACL_ABI_S_ISDIR(m) (((m)&NACL_ABI_S_IFMT) == NACL_ABI_S_IFDIR)
#define NACL_ABI_S_ISCHR(m) (((m)&NACL_ABI_S_IFMT) == NACL_ABI_S_IFCHR)
#define NACL_ABI_S_ISFIFO(m) (((m)&NACL_ABI_S_IFMT) == NACL_ABI_S_IFIFO)
#define NACL_ABI_S_ISSHM(m) (((m)&NACL_ABI_S_IFMT) == NACL_ABI_S_IFSHM)
#define NACL_ABI_S_ISBOUNDSOCK(m) (((m)&NACL_ABI_S_IFMT) == NACL_ABI_S_IFBOUNDSOCK)
#define NACL_ABI_S_ISSOCKADDR(m) (((m)&NACL_ABI_S_IFMT) == NACL_ABI_S_IFSOCKADDR)
#define NACL_ABI_S_ISDSOCK(m) (((m)&NACL_ABI_S_IFMT) == NACL_ABI_S_IFDSOCK)

#endif /* NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_STAT_H_ */
