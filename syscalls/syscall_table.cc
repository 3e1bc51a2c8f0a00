#include "syscalls/syscall_table.h"

#include <sys/syscall.h>

#include "syscalls/handlers.h"
#include "syscalls/linux_compat.h"
#include "syscalls/linux_files.h"
#include "syscalls/linux_poll.h"

namespace syscalls {

SyscallTable::SyscallTable() {
  handlers_.fill(nullptr);
  names_.fill(nullptr);
}

void SyscallTable::Set(uint64_t number, SyscallHandler handler, const char* name) {
  if (number >= handlers_.size()) return;
  handlers_[number] = handler;
  names_[number] = name;
}

const SyscallTable& SyscallTable::Nacl() {
  static const SyscallTable* const table = [] {
    auto* t = new SyscallTable();
    t->Set(NACL_sys_null, SysNull, "null");
    t->Set(NACL_sys_dup, SysDup, "dup");
    t->Set(NACL_sys_dup2, SysDup2, "dup2");
    t->Set(NACL_sys_close, SysClose, "close");
    t->Set(NACL_sys_read, SysRead, "read");
    t->Set(NACL_sys_write, SysWrite, "write");
    t->Set(NACL_sys_fstat, SysFstat, "fstat");
    t->Set(NACL_sys_mmap, SysMmap, "mmap");
    t->Set(NACL_sys_munmap, SysMunmap, "munmap");
    t->Set(NACL_sys_exit, SysExit, "exit");
    t->Set(NACL_sys_getpid, SysGetpid, "getpid");
    t->Set(NACL_sys_imc_makeboundsock, SysImcMakeBoundSock, "imc_makeboundsock");
    t->Set(NACL_sys_imc_accept, SysImcAccept, "imc_accept");
    t->Set(NACL_sys_imc_connect, SysImcConnect, "imc_connect");
    t->Set(NACL_sys_imc_sendmsg, SysImcSendmsg, "imc_sendmsg");
    t->Set(NACL_sys_imc_recvmsg, SysImcRecvmsg, "imc_recvmsg");
    t->Set(NACL_sys_imc_mem_obj_create, SysImcMemObjCreate, "imc_mem_obj_create");
    t->Set(NACL_sys_imc_socketpair, SysImcSocketPair, "imc_socketpair");
    return t;
  }();
  return *table;
}

const SyscallTable& SyscallTable::LinuxDescriptorCalls() {
  static const SyscallTable* const table = [] {
    auto* t = new SyscallTable();
    t->Set(SYS_read, SysRead, "read");
    t->Set(SYS_write, SysWrite, "write");
    t->Set(SYS_readv, LinuxReadv, "readv");
    t->Set(SYS_writev, LinuxWritev, "writev");
    t->Set(SYS_close, SysClose, "close");
    t->Set(SYS_dup, SysDup, "dup");
    t->Set(SYS_dup2, LinuxDup2, "dup2");
    t->Set(SYS_dup3, LinuxDup3, "dup3");
    t->Set(SYS_fstat, LinuxFstat, "fstat");
    t->Set(SYS_newfstatat, LinuxNewfstatat, "newfstatat");
    // syscalls/linux_files.h: fcntl, file calls on HostIo files, pipes.
    t->Set(SYS_fcntl, LinuxFcntl, "fcntl");
    t->Set(SYS_lseek, LinuxLseek, "lseek");
    t->Set(SYS_pread64, LinuxPread64, "pread64");
    t->Set(SYS_pwrite64, LinuxPwrite64, "pwrite64");
    t->Set(SYS_preadv, LinuxPreadv, "preadv");
    t->Set(SYS_pwritev, LinuxPwritev, "pwritev");
    t->Set(SYS_fsync, LinuxFsync, "fsync");
    t->Set(SYS_fdatasync, LinuxFdatasync, "fdatasync");
    t->Set(SYS_ftruncate, LinuxFtruncate, "ftruncate");
    t->Set(SYS_pipe, LinuxPipe, "pipe");
    t->Set(SYS_pipe2, LinuxPipe2, "pipe2");
    // syscalls/linux_poll.h: readiness over any descriptors.
    t->Set(SYS_poll, LinuxPoll, "poll");
    t->Set(SYS_ppoll, LinuxPpoll, "ppoll");
    t->Set(SYS_select, LinuxSelect, "select");
    t->Set(SYS_pselect6, LinuxPselect6, "pselect6");
    return t;
  }();
  return *table;
}

}  // namespace syscalls
