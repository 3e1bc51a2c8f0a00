#include "syscalls/syscall_table.h"

#include <sys/syscall.h>

#include "syscalls/handlers.h"
#include "syscalls/linux_compat.h"
#include "syscalls/linux_process.h"

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
    t->Set(SYS_getcwd, LinuxGetcwd, "getcwd");
    t->Set(SYS_sysinfo, LinuxSysinfo, "sysinfo");
    return t;
  }();
  return *table;
}

}  // namespace syscalls
