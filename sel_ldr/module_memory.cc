#include "sel_ldr/module_memory.h"

#include <errno.h>
#include <fcntl.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace sel_ldr {

using syscalls::UntrustedMemory;
using syscalls::UntrustedRange;

int ModuleMemory::MemFile(pid_t tid, absl::FunctionRef<bool()> live) {
  std::lock_guard<std::mutex> lock(mu_);
  if (mem_file_.valid()) return mem_file_.get();
  const std::string path = absl::StrCat("/proc/", tid, "/mem");
  base::UniqueFd file(open(path.c_str(), O_RDWR | O_CLOEXEC));
  // Checked after the open: if the call is still pending, `tid` was the module's thread
  // throughout, and the file is bound to the module's address space.
  if (!file.valid() || !live()) return -1;
  mem_file_ = std::move(file);
  return mem_file_.get();
}

bool ModuleMemory::Call::Access(absl::FunctionRef<bool(UntrustedMemory&)> access) {
  if (memory_->closed_.load(std::memory_order_acquire)) return false;
  errno = 0;
  if (access(memory_->process_)) return true;
  if (errno != ESRCH) return false;  // EFAULT: the module's memory refused it.
  // The main thread is gone, the module lives on in other threads.
  const int fd = memory_->MemFile(tid_, live_);
  if (fd < 0) return false;
  syscalls::MemFileMemory file(fd);
  return access(file);
}

bool ModuleMemory::Call::Read(uint64_t address, void* out, size_t size) {
  if (size == 0) return true;
  return Access([&](UntrustedMemory& m) { return m.Read(address, out, size); });
}

bool ModuleMemory::Call::Write(uint64_t address, const void* data, size_t size) {
  if (size == 0) return true;
  return Access([&](UntrustedMemory& m) { return m.Write(address, data, size); });
}

bool ModuleMemory::Call::Gather(absl::Span<const UntrustedRange> ranges, void* out) {
  return Access([&](UntrustedMemory& m) { return m.Gather(ranges, out); });
}

bool ModuleMemory::Call::Scatter(absl::Span<const UntrustedRange> ranges, const void* data,
                                 size_t size) {
  if (size == 0) return true;
  return Access([&](UntrustedMemory& m) { return m.Scatter(ranges, data, size); });
}

}  // namespace sel_ldr
