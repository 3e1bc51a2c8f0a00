// What a syscall handler sees of the module that called it.
#ifndef SYSCALLS_CALL_CONTEXT_H_
#define SYSCALLS_CALL_CONTEXT_H_

#include <stddef.h>
#include <stdint.h>

#include <climits>

#include "imc/cancellation.h"

namespace syscalls {

class DescriptorTable;
class UntrustedMemory;

// A handler's answer that is not a value: let the kernel run the module's own call (a Linux
// call, after the handler placed what the kernel needs with ModuleControl::PlaceFd). Only
// handlers of Linux numbers answer it, and only for calls whose arguments hold no pointer the
// kernel would read: nothing the module changes afterwards can alter what was checked.
inline constexpr int64_t kRunInKernel = INT64_MIN;

// A handler's answer on the loader's nonblocking first attempt (CallContext::
// nonblocking_attempt) when the call would have to wait: the loader moves the call off the
// thread that receives every module thread's calls and dispatches it again, allowed to block.
// Never the answer of a call that is not an attempt, and never seen by the module. A call the
// module itself made nonblocking answers EAGAIN instead, at once.
inline constexpr int64_t kWouldBlock = INT64_MIN + 1;

// The parts of a module that live outside the syscall layer: its process (exit, pid, the host
// fds the kernel acts on for it). The loader implements it; tests fake it.
class ModuleControl {
 public:
  virtual ~ModuleControl() = default;

  // The module asked to exit with `status`. Returns 0 or a negated errno.
  virtual int64_t Exit(int status) = 0;
  // Returns the module's process id as the module should see it.
  virtual int64_t GetPid() = 0;
  // Puts host fd `host_fd` at number `number` in the module's own process, replacing what is
  // there, for the kernel to act on during call `call` (CallContext::call_id): the memfd of
  // a shared memory descriptor, for mmap. Returns 0 or a negated errno.
  virtual int64_t PlaceFd(uint64_t call, int host_fd, int number) = 0;
  // Drops what PlaceFd put at `number` (its descriptor slot was closed or replaced), so that
  // the module's process keeps no object alive that its table no longer holds; the number
  // then holds an empty placeholder. Returns 0 or a negated errno.
  virtual int64_t ReleaseFd(uint64_t call, int number) = 0;
};

// A descriptor number or flags argument: NaCl and Linux pass C ints, the low 32 bits of the
// register.
inline int IntArg(uint64_t value) { return static_cast<int>(static_cast<uint32_t>(value)); }

// A call's six integer arguments, as the module passed them in registers.
struct SyscallArgs {
  uint64_t arg[6];
};

struct CallContext;

// A handler: returns a non-negative result, a negated errno (NaCl's in the NaCl table,
// Linux's in the Linux table), kRunInKernel or kWouldBlock. It never aborts, whatever the
// arguments.
using SyscallHandler = int64_t (*)(const CallContext& context, const SyscallArgs& args);

struct CallContext {
  DescriptorTable* table = nullptr;
  UntrustedMemory* memory = nullptr;
  ModuleControl* module = nullptr;
  // The calling module thread (its tid), for tracing and cancellation.
  int64_t thread_id = 0;
  // Which call this is, for ModuleControl (the loader's notification id).
  uint64_t call_id = 0;
  // Cancelled when the call must end (the calling thread died, the module exits, or the
  // descriptor it waits on was closed). May be null: the call then only ends by itself.
  const imc::Cancellation* cancellation = nullptr;
  // A call that would block answers kWouldBlock instead, having done nothing; so does one
  // that consumed a small batch of a peer's packets that carry nothing for the module (those
  // are gone, the call not yet done). A call the module made nonblocking that finds nothing
  // answers its own EAGAIN. The loader tries every call this way first, and only moves one
  // that answered kWouldBlock off the thread that receives the module's calls.
  bool nonblocking_attempt = false;
};

}  // namespace syscalls

#endif  // SYSCALLS_CALL_CONTEXT_H_
