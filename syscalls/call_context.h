// What a syscall handler sees of the module that called it.
#ifndef SYSCALLS_CALL_CONTEXT_H_
#define SYSCALLS_CALL_CONTEXT_H_

#include <stddef.h>
#include <stdint.h>

#include "imc/cancellation.h"

namespace syscalls {

class DescriptorTable;
class UntrustedMemory;

// The parts of a module that live outside the syscall layer: its process (exit, pid) and its
// address space (mapping shared memory). The loader implements it; tests fake it.
class ModuleControl {
 public:
  virtual ~ModuleControl() = default;

  // The module asked to exit with `status`. Returns 0 or a negated errno.
  virtual int64_t Exit(int status) = 0;
  // Returns the module's process id as the module should see it.
  virtual int64_t GetPid() = 0;
  // Maps `length` bytes of the shared memory `fd` at `offset` into the module with NaCl
  // `prot` and `flags` (already validated) at `address` (a hint unless MAP_FIXED). Returns
  // the module address or a negated errno.
  virtual int64_t MapSharedMemory(int fd, uint64_t address, size_t length, int prot, int flags,
                                  int64_t offset) = 0;
  // Unmaps module memory. Returns 0 or a negated errno.
  virtual int64_t Unmap(uint64_t address, size_t length) = 0;
};

struct CallContext {
  DescriptorTable* table = nullptr;
  UntrustedMemory* memory = nullptr;
  ModuleControl* module = nullptr;
  // The calling module thread (its tid), for tracing and cancellation.
  int64_t thread_id = 0;
  // Cancelled when the call must end (the calling thread died, the module exits, or the
  // descriptor it waits on was closed). May be null: the call then only ends by itself.
  const imc::Cancellation* cancellation = nullptr;
  // A call that would block fails with EAGAIN instead, having done nothing; so does one that
  // consumed a small batch of a peer's packets that carry nothing for the module (those are
  // gone, the call not yet done). The loader tries every call this way first, and only moves
  // one that would block off the thread that receives the module's calls.
  bool nonblocking_attempt = false;
};

}  // namespace syscalls

#endif  // SYSCALLS_CALL_CONTEXT_H_
