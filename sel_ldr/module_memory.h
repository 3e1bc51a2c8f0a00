// The module's address space, as the supervisor's handlers reach it.
//
// Every access lands in the module's own memory, whatever happens to thread ids:
// - Reads and writes use process_vm_readv/writev on the module's process id, the pid of
//   sel_ldr's own child. sel_ldr reaps that child only after every worker has stopped, so the
//   id cannot name another process while any call is served. Page protections hold, so
//   unreadable or unwritable module memory is EFAULT, as in Native Client.
// - The module's address space never changes: the supervisor lets exactly one exec through,
//   before any module code runs, and kills the module at any other.
// - Once the module's main thread has exited while other threads run, its process id has no
//   memory any more. The memory is then reached through /proc/<tid>/mem of a calling thread,
//   opened once and kept only if that thread's call was still live after the open (so the
//   tid was the module's when the file was opened); the file stays bound to the module's
//   address space. On that path the kernel writes as a debugger does, through page
//   protections: only the module's own private memory can be affected.
// - Close() ends all access, when the module dies or breaks the policy.
#ifndef SEL_LDR_MODULE_MEMORY_H_
#define SEL_LDR_MODULE_MEMORY_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <atomic>
#include <mutex>

#include "absl/functional/function_ref.h"
#include "absl/types/span.h"
#include "base/unique_fd.h"
#include "syscalls/untrusted_memory.h"

namespace sel_ldr {

class ModuleMemory {
 public:
  // The memory of module process `pid`, which the caller keeps unreaped while this is used.
  explicit ModuleMemory(pid_t pid) : process_(pid) {}

  // From now on every access fails.
  void Close() { closed_.store(true, std::memory_order_release); }

  // What one call of module thread `tid` reaches. `live` says whether that thread's call is
  // still pending (so `tid` is still the module's thread).
  class Call : public syscalls::UntrustedMemory {
   public:
    // `live` must outlive the call object.
    Call(ModuleMemory* memory, pid_t tid, absl::FunctionRef<bool()> live)
        : memory_(memory), tid_(tid), live_(live) {}

    bool Read(uint64_t address, void* out, size_t size) override;
    bool Write(uint64_t address, const void* data, size_t size) override;
    bool Gather(absl::Span<const syscalls::UntrustedRange> ranges, void* out) override;
    bool Scatter(absl::Span<const syscalls::UntrustedRange> ranges, const void* data,
                 size_t size) override;

   private:
    // Runs `access` on the module's process; if it has no memory any more, on its mem file.
    bool Access(absl::FunctionRef<bool(syscalls::UntrustedMemory&)> access);

    ModuleMemory* memory_;
    pid_t tid_;
    absl::FunctionRef<bool()> live_;
  };

 private:
  // The module's /proc/<tid>/mem, opened on first need through a live calling thread; -1 if
  // it cannot be.
  int MemFile(pid_t tid, absl::FunctionRef<bool()> live);

  syscalls::ProcessMemory process_;
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  base::UniqueFd mem_file_;  // Guarded by mu_ until set; never reset.
};

}  // namespace sel_ldr

#endif  // SEL_LDR_MODULE_MEMORY_H_
