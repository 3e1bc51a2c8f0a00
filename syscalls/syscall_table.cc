#include "syscalls/syscall_table.h"

#include <sys/syscall.h>

#include "syscalls/handlers.h"
#include "syscalls/linux_compat.h"
#include "syscalls/linux_files.h"
#include "syscalls/linux_paths.h"
#include "syscalls/linux_poll.h"
#include "syscalls/linux_process.h"

namespace syscalls {

SyscallTable::SyscallTable(int default_arity) : default_arity_(default_arity) {
  handlers_.fill(nullptr);
  names_.fill(nullptr);
  arities_.fill(static_cast<uint8_t>(default_arity));
}

void SyscallTable::Set(uint64_t number, SyscallHandler handler, const char* name, int arity) {
  if (number >= handlers_.size()) return;
  handlers_[number] = handler;
  names_[number] = name;
  arities_[number] = static_cast<uint8_t>(arity);
}

const SyscallTable& SyscallTable::Nacl() {
  static const SyscallTable* const table = [] {
    auto* t = new SyscallTable(/*default_arity=*/1);
    t->Set(NACL_sys_null, SysNull, "null", 0);
    t->Set(NACL_sys_dup, SysDup, "dup", 1);
    t->Set(NACL_sys_dup2, SysDup2, "dup2", 2);
    t->Set(NACL_sys_close, SysClose, "close", 1);
    t->Set(NACL_sys_read, SysRead, "read", 3);
    t->Set(NACL_sys_write, SysWrite, "write", 3);
    t->Set(NACL_sys_fstat, SysFstat, "fstat", 2);
    t->Set(NACL_sys_mmap, SysMmap, "mmap", 6);
    t->Set(NACL_sys_munmap, SysMunmap, "munmap", 2);
    t->Set(NACL_sys_exit, SysExit, "exit", 1);
    t->Set(NACL_sys_getpid, SysGetpid, "getpid", 0);
    t->Set(NACL_sys_imc_makeboundsock, SysImcMakeBoundSock, "imc_makeboundsock", 1);
    t->Set(NACL_sys_imc_accept, SysImcAccept, "imc_accept", 1);
    t->Set(NACL_sys_imc_connect, SysImcConnect, "imc_connect", 1);
    t->Set(NACL_sys_imc_sendmsg, SysImcSendmsg, "imc_sendmsg", 3);
    t->Set(NACL_sys_imc_recvmsg, SysImcRecvmsg, "imc_recvmsg", 3);
    t->Set(NACL_sys_imc_mem_obj_create, SysImcMemObjCreate, "imc_mem_obj_create", 1);
    t->Set(NACL_sys_imc_socketpair, SysImcSocketPair, "imc_socketpair", 1);
    return t;
  }();
  return *table;
}

const SyscallTable& SyscallTable::LinuxDescriptorCalls() {
  static const SyscallTable* const table = [] {
    auto* t = new SyscallTable();
    t->Set(SYS_read, SysRead, "read", 3);
    t->Set(SYS_write, SysWrite, "write", 3);
    t->Set(SYS_readv, LinuxReadv, "readv", 3);
    t->Set(SYS_writev, LinuxWritev, "writev", 3);
    t->Set(SYS_close, LinuxClose, "close", 1);
    t->Set(SYS_mmap, LinuxMmap, "mmap", 6);
    t->Set(SYS_dup, SysDup, "dup", 1);
    t->Set(SYS_dup2, LinuxDup2, "dup2", 2);
    t->Set(SYS_dup3, LinuxDup3, "dup3", 3);
    t->Set(SYS_fstat, LinuxFstat, "fstat", 2);
    t->Set(SYS_newfstatat, LinuxPathNewfstatat, "newfstatat", 4);
    // Path calls, beneath the mounted directory (sel_ldr -m); EACCES without one.
    t->Set(SYS_open, LinuxOpen, "open", 3);
    t->Set(SYS_openat, LinuxOpenat, "openat", 4);
    t->Set(SYS_creat, LinuxCreat, "creat", 2);
    t->Set(SYS_stat, LinuxStat, "stat", 2);
    t->Set(SYS_lstat, LinuxLstat, "lstat", 2);
    t->Set(SYS_access, LinuxAccess, "access", 2);
    t->Set(SYS_faccessat, LinuxFaccessat, "faccessat", 4);
    t->Set(SYS_faccessat2, LinuxFaccessat2, "faccessat2", 4);
    t->Set(SYS_readlink, LinuxReadlink, "readlink", 3);
    t->Set(SYS_readlinkat, LinuxReadlinkat, "readlinkat", 4);
    t->Set(SYS_getdents64, LinuxGetdents64, "getdents64", 3);
    t->Set(SYS_mkdir, LinuxMkdir, "mkdir", 2);
    t->Set(SYS_mkdirat, LinuxMkdirat, "mkdirat", 3);
    t->Set(SYS_unlink, LinuxUnlink, "unlink", 1);
    t->Set(SYS_unlinkat, LinuxUnlinkat, "unlinkat", 3);
    t->Set(SYS_rmdir, LinuxRmdir, "rmdir", 1);
    t->Set(SYS_rename, LinuxRename, "rename", 2);
    t->Set(SYS_renameat, LinuxRenameat, "renameat", 4);
    t->Set(SYS_renameat2, LinuxRenameat2, "renameat2", 5);
    t->Set(SYS_getcwd, LinuxGetcwd, "getcwd", 2);
    t->Set(SYS_sysinfo, LinuxSysinfo, "sysinfo", 1);
    // syscalls/linux_files.h: fcntl, file calls on HostIo files, pipes.
    t->Set(SYS_fcntl, LinuxFcntl, "fcntl", 3);
    t->Set(SYS_lseek, LinuxLseek, "lseek", 3);
    t->Set(SYS_pread64, LinuxPread64, "pread64", 4);
    t->Set(SYS_pwrite64, LinuxPwrite64, "pwrite64", 4);
    t->Set(SYS_preadv, LinuxPreadv, "preadv", 4);
    t->Set(SYS_pwritev, LinuxPwritev, "pwritev", 4);
    t->Set(SYS_fsync, LinuxFsync, "fsync", 1);
    t->Set(SYS_fdatasync, LinuxFdatasync, "fdatasync", 1);
    t->Set(SYS_ftruncate, LinuxFtruncate, "ftruncate", 2);
    t->Set(SYS_pipe, LinuxPipe, "pipe", 1);
    t->Set(SYS_pipe2, LinuxPipe2, "pipe2", 2);
    // syscalls/linux_poll.h: readiness over any descriptors.
    t->Set(SYS_poll, LinuxPoll, "poll", 3);
    t->Set(SYS_ppoll, LinuxPpoll, "ppoll", 5);
    t->Set(SYS_select, LinuxSelect, "select", 5);
    t->Set(SYS_pselect6, LinuxPselect6, "pselect6", 6);
    return t;
  }();
  return *table;
}

}  // namespace syscalls
