/* nacl_headers: a NaCl-era module. It includes the SDK's headers by Native Client's paths,
 * does not define _GNU_SOURCE (nacl-cc and nacl_module do, as NaCl's newlib exposed environ
 * and PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP without it), checks at compile time that every
 * NACL_ABI_* value equals the one the module's libc uses, and runs the declared calls. Prints
 * "CASE <name> expected=<E> actual=<A>" lines (nacl_headers_test.cc and
 * tools/nacl_cc_test.sh assert them) and "DONE". Run with -E NACL_HEADERS=yes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/nacl_syscalls.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "native_client/src/public/imc_syscalls.h"
#include "native_client/src/public/imc_types.h"
#include "native_client/src/trusted/service_runtime/include/bits/mman.h"
#include "native_client/src/trusted/service_runtime/include/bits/nacl_imc_api.h"
#include "native_client/src/trusted/service_runtime/include/bits/nacl_syscalls.h"
#include "native_client/src/trusted/service_runtime/include/machine/_types.h"
#include "native_client/src/trusted/service_runtime/include/sys/errno.h"
#include "native_client/src/trusted/service_runtime/include/sys/fcntl.h"
#include "native_client/src/trusted/service_runtime/include/sys/mman.h"
#include "native_client/src/trusted/service_runtime/include/sys/nacl_imc_api.h"
#include "native_client/src/trusted/service_runtime/include/sys/nacl_syscalls.h"
#include "native_client/src/trusted/service_runtime/include/sys/stat.h"
#include "native_client/src/trusted/service_runtime/include/sys/time.h"

#define SAME(a, b) _Static_assert((a) == (b), #a " == " #b)

SAME(NACL_ABI_EPERM, EPERM);
SAME(NACL_ABI_ENOENT, ENOENT);
SAME(NACL_ABI_ESRCH, ESRCH);
SAME(NACL_ABI_EINTR, EINTR);
SAME(NACL_ABI_EIO, EIO);
SAME(NACL_ABI_E2BIG, E2BIG);
SAME(NACL_ABI_EBADF, EBADF);
SAME(NACL_ABI_ECHILD, ECHILD);
SAME(NACL_ABI_EAGAIN, EAGAIN);
SAME(NACL_ABI_EWOULDBLOCK, EWOULDBLOCK);
SAME(NACL_ABI_ENOMEM, ENOMEM);
SAME(NACL_ABI_EACCES, EACCES);
SAME(NACL_ABI_EFAULT, EFAULT);
SAME(NACL_ABI_EBUSY, EBUSY);
SAME(NACL_ABI_EEXIST, EEXIST);
SAME(NACL_ABI_EXDEV, EXDEV);
SAME(NACL_ABI_ENODEV, ENODEV);
SAME(NACL_ABI_ENOTDIR, ENOTDIR);
SAME(NACL_ABI_EISDIR, EISDIR);
SAME(NACL_ABI_EINVAL, EINVAL);
SAME(NACL_ABI_ENFILE, ENFILE);
SAME(NACL_ABI_EMFILE, EMFILE);
SAME(NACL_ABI_ENOTTY, ENOTTY);
SAME(NACL_ABI_EFBIG, EFBIG);
SAME(NACL_ABI_ENOSPC, ENOSPC);
SAME(NACL_ABI_ESPIPE, ESPIPE);
SAME(NACL_ABI_EROFS, EROFS);
SAME(NACL_ABI_EMLINK, EMLINK);
SAME(NACL_ABI_EPIPE, EPIPE);
SAME(NACL_ABI_ERANGE, ERANGE);
SAME(NACL_ABI_ENAMETOOLONG, ENAMETOOLONG);
SAME(NACL_ABI_ENOSYS, ENOSYS);
SAME(NACL_ABI_ENOTEMPTY, ENOTEMPTY);
SAME(NACL_ABI_ELOOP, ELOOP);
SAME(NACL_ABI_EOVERFLOW, EOVERFLOW);
SAME(NACL_ABI_ENOTSOCK, ENOTSOCK);
SAME(NACL_ABI_EMSGSIZE, EMSGSIZE);
SAME(NACL_ABI_EOPNOTSUPP, EOPNOTSUPP);
SAME(NACL_ABI_ENOTSUP, ENOTSUP);
SAME(NACL_ABI_ENOBUFS, ENOBUFS);
SAME(NACL_ABI_ETIMEDOUT, ETIMEDOUT);

SAME(NACL_ABI_O_ACCMODE, O_ACCMODE);
SAME(NACL_ABI_O_RDONLY, O_RDONLY);
SAME(NACL_ABI_O_WRONLY, O_WRONLY);
SAME(NACL_ABI_O_RDWR, O_RDWR);
SAME(NACL_ABI_O_CREAT, O_CREAT);
SAME(NACL_ABI_O_EXCL, O_EXCL);
SAME(NACL_ABI_O_NOCTTY, O_NOCTTY);
SAME(NACL_ABI_O_TRUNC, O_TRUNC);
SAME(NACL_ABI_O_APPEND, O_APPEND);
SAME(NACL_ABI_O_NONBLOCK, O_NONBLOCK);
SAME(NACL_ABI_O_NDELAY, O_NDELAY);
SAME(NACL_ABI_O_DSYNC, O_DSYNC);
SAME(NACL_ABI_O_SYNC, O_SYNC);
SAME(NACL_ABI_O_FSYNC, O_FSYNC);
SAME(NACL_ABI_O_DIRECTORY, O_DIRECTORY);
SAME(NACL_ABI_O_NOFOLLOW, O_NOFOLLOW);
SAME(NACL_ABI_O_CLOEXEC, O_CLOEXEC);
SAME(NACL_ABI_F_DUPFD, F_DUPFD);
SAME(NACL_ABI_F_GETFD, F_GETFD);
SAME(NACL_ABI_F_SETFD, F_SETFD);
SAME(NACL_ABI_F_GETFL, F_GETFL);
SAME(NACL_ABI_F_SETFL, F_SETFL);
SAME(NACL_ABI_F_DUPFD_CLOEXEC, F_DUPFD_CLOEXEC);
SAME(NACL_ABI_FD_CLOEXEC, FD_CLOEXEC);

SAME(NACL_ABI_S_IFREG, S_IFREG);
SAME(NACL_ABI_S_IFDIR, S_IFDIR);
SAME(NACL_ABI_S_IFCHR, S_IFCHR);
SAME(NACL_ABI_S_IFIFO, S_IFIFO);
SAME(NACL_ABI_S_IFSOCK, S_IFSOCK);
SAME(NACL_ABI_S_ISUID, S_ISUID);
SAME(NACL_ABI_S_ISGID, S_ISGID);
SAME(NACL_ABI_S_ISVTX, S_ISVTX);
SAME(NACL_ABI_S_IRWXU, S_IRWXU);
SAME(NACL_ABI_S_IRUSR, S_IRUSR);
SAME(NACL_ABI_S_IWUSR, S_IWUSR);
SAME(NACL_ABI_S_IXUSR, S_IXUSR);
SAME(NACL_ABI_S_IRWXG, S_IRWXG);
SAME(NACL_ABI_S_IRGRP, S_IRGRP);
SAME(NACL_ABI_S_IWGRP, S_IWGRP);
SAME(NACL_ABI_S_IXGRP, S_IXGRP);
SAME(NACL_ABI_S_IRWXO, S_IRWXO);
SAME(NACL_ABI_S_IROTH, S_IROTH);
SAME(NACL_ABI_S_IWOTH, S_IWOTH);
SAME(NACL_ABI_S_IXOTH, S_IXOTH);

SAME(NACL_ABI_PROT_NONE, PROT_NONE);
SAME(NACL_ABI_PROT_READ, PROT_READ);
SAME(NACL_ABI_PROT_WRITE, PROT_WRITE);
SAME(NACL_ABI_PROT_EXEC, PROT_EXEC);
SAME(NACL_ABI_MAP_SHARED, MAP_SHARED);
SAME(NACL_ABI_MAP_PRIVATE, MAP_PRIVATE);
SAME(NACL_ABI_MAP_FIXED, MAP_FIXED);
SAME(NACL_ABI_MAP_ANONYMOUS, MAP_ANONYMOUS);
SAME(NACL_ABI_MAP_ANON, MAP_ANON);

SAME(sizeof(struct nacl_abi_timeval), sizeof(struct timeval));
SAME(offsetof(struct nacl_abi_timeval, nacl_abi_tv_usec), offsetof(struct timeval, tv_usec));
SAME(sizeof(struct nacl_abi_timespec), sizeof(struct timespec));
SAME(offsetof(struct nacl_abi_timespec, tv_nsec), offsetof(struct timespec, tv_nsec));
SAME(sizeof(nacl_abi_size_t), sizeof(size_t));
SAME(sizeof(nacl_abi_off_t), sizeof(off_t));
SAME(sizeof(NaClHandle), sizeof(int));
SAME(NACL_ABI_WORDSIZE, 8 * sizeof(void *));
SAME(NACL_ABI_IMC_BYTES_MAX, NACL_ABI_IMC_USER_BYTES_MAX + 16);
SAME(sizeof(struct NaClImcMsgHdr), sizeof(struct NaClAbiNaClImcMsgHdr));
SAME(NACL_sys_imc_sendmsg, 63);

static pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static void Check(const char *name, const char *expected, const char *actual) {
  printf("CASE %s expected=%s actual=%s\n", name, expected, actual);
}

static void CheckInt(const char *name, long expected, long actual) {
  char e[32], a[32];
  snprintf(e, sizeof(e), "%ld", expected);
  snprintf(a, sizeof(a), "%ld", actual);
  Check(name, e, a);
}

/* -1 and errno as a number, or the result. */
static long Result(long result) { return result < 0 ? -errno : result; }

int main(void) {
  /* environ and the recursive mutex initializer, without _GNU_SOURCE in the source. */
  const char *found = "none";
  for (char **e = environ; e != NULL && *e != NULL; ++e) {
    if (strcmp(*e, "NACL_HEADERS=yes") == 0) found = "NACL_HEADERS=yes";
  }
  Check("environ", "NACL_HEADERS=yes", found);
  int locked = pthread_mutex_lock(&recursive) == 0 && pthread_mutex_lock(&recursive) == 0 &&
               pthread_mutex_unlock(&recursive) == 0 && pthread_mutex_unlock(&recursive) == 0;
  Check("recursive_mutex_locked_twice", "yes", locked ? "yes" : "no");

  /* <sys/nacl_syscalls.h>'s calls, with the old NaClImcMsgHdr names. */
  null_syscall();
  NaClHandle pair[2];
  CheckInt("imc_socketpair", 0, Result(imc_socketpair(pair)));
  char text[] = "nacl";
  struct NaClImcMsgIoVec iov = {text, 4};
  struct NaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  CheckInt("imc_sendmsg", 4, Result(imc_sendmsg(pair[0], &header, 0)));
  char buffer[8] = {0};
  struct NaClImcMsgIoVec in = {buffer, sizeof(buffer)};
  struct NaClImcMsgHdr received = {&in, 1, NULL, 0, 0};
  CheckInt("imc_recvmsg", 4, Result(imc_recvmsg(pair[1], &received, NACL_ABI_IMC_NONBLOCK)));
  Check("imc_recvmsg_data", "nacl", buffer);
  struct nacl_abi_stat st;
  CheckInt("nacl_fstat", 0, Result(nacl_fstat(pair[0], &st)));
  Check("fstat_is_data_only_socket", "yes", NACL_ABI_S_ISDSOCK(st.nacl_abi_st_mode) ? "yes" : "no");
  CheckInt("fstat_owner_rw", NACL_ABI_S_IRUSR | NACL_ABI_S_IWUSR,
           st.nacl_abi_st_mode & NACL_ABI_S_IRWXU);

  /* Error numbers as sys/errno.h names them, NaCl's answers. */
  NaClHandle bound[2];
  CheckInt("imc_makeboundsock", 0, Result(imc_makeboundsock(bound)));
  CheckInt("sendmsg_on_bound_socket", -NACL_ABI_EIO, Result(imc_sendmsg(bound[0], &header, 0)));
  CheckInt("mem_obj_create_0", -NACL_ABI_ENOMEM, Result(imc_mem_obj_create(0)));
  CheckInt("mem_obj_create_4096", -NACL_ABI_EINVAL, Result(imc_mem_obj_create(4096)));

  /* Shared memory mapped with the NACL_ABI_ mmap bits. */
  int memory = imc_mem_obj_create(NACL_ABI_MAP_PAGESIZE);
  void *mapped = mmap(NULL, NACL_ABI_MAP_PAGESIZE, NACL_ABI_PROT_READ | NACL_ABI_PROT_WRITE,
                      NACL_ABI_MAP_SHARED, memory, 0);
  Check("mmap_shared_memory", "ok", mapped == NACL_ABI_MAP_FAILED ? strerror(errno) : "ok");

  printf("DONE\n");
  return 0;
}
