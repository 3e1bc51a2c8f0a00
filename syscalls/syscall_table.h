// The dispatch table: NaCl syscall numbers to handlers.
//
// A handler gets the caller's context and six integer arguments and returns a non-negative
// result or a negated NaCl errno. It never aborts, whatever the arguments.
#ifndef SYSCALLS_SYSCALL_TABLE_H_
#define SYSCALLS_SYSCALL_TABLE_H_

#include <stdint.h>

#include <array>

#include "syscalls/call_context.h"
#include "syscalls/nacl_abi.h"

namespace syscalls {

class SyscallTable {
 public:
  // Numbers 0 .. kCapacity - 1 may have handlers.
  static constexpr uint64_t kCapacity = 512;

  // A table with no handlers: every number answers -ENOSYS, and a trace shows
  // `default_arity` of its arguments.
  explicit SyscallTable(int default_arity = 6);

  // The table with every NaCl call of ABI.md, by NaCl number.
  static const SyscallTable& Nacl();
  // Linux's descriptor calls (read, write, readv, writev, close, dup, dup2, dup3, fstat,
  // newfstatat), by x86-64 Linux number, served from the descriptor table with Linux
  // semantics; so that stdio and close() work unmodified in a module.
  static const SyscallTable& LinuxDescriptorCalls();

  // Sets the handler for `number` (< kCapacity), with the call's name and how many of its
  // arguments a trace shows.
  void Set(uint64_t number, SyscallHandler handler, const char* name, int arity = 6);

  // Runs the handler for `number`; -NACL_ABI_ENOSYS if there is none.
  int64_t Dispatch(const CallContext& context, uint64_t number, const SyscallArgs& args) const {
    if (number >= handlers_.size() || handlers_[number] == nullptr) return -NACL_ABI_ENOSYS;
    return handlers_[number](context, args);
  }

  // The call's name ("imc_sendmsg"), or null for an unknown number.
  const char* Name(uint64_t number) const {
    return number < names_.size() ? names_[number] : nullptr;
  }
  // How many arguments a trace of the call shows.
  int Arity(uint64_t number) const {
    return number < arities_.size() ? arities_[number] : default_arity_;
  }

 private:
  std::array<SyscallHandler, kCapacity> handlers_;
  std::array<const char*, kCapacity> names_;
  std::array<uint8_t, kCapacity> arities_;
  int default_arity_;
};

}  // namespace syscalls

#endif  // SYSCALLS_SYSCALL_TABLE_H_
