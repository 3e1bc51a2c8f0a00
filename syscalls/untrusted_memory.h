// Bounded access to a module's memory. Handlers copy each untrusted structure in once and act
// on the copy: another module thread may rewrite the original at any time.
#ifndef SYSCALLS_UNTRUSTED_MEMORY_H_
#define SYSCALLS_UNTRUSTED_MEMORY_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vector>

#include "absl/types/span.h"

namespace syscalls {

// A range of module addresses.
struct UntrustedRange {
  uint64_t address;
  size_t size;
};

class UntrustedMemory {
 public:
  virtual ~UntrustedMemory() = default;

  // Copies `size` bytes at module `address` to `out`. Returns false (EFAULT) if any byte
  // is unreadable; `out` may then hold part of the data.
  virtual bool Read(uint64_t address, void* out, size_t size) = 0;
  // Copies `size` bytes from `data` to module `address`. Returns false (EFAULT) if any byte
  // is unwritable; part of the range may then have been written.
  virtual bool Write(uint64_t address, const void* data, size_t size) = 0;

  // Reads the ranges, in order, into consecutive bytes of `out` (which holds their total).
  virtual bool Gather(absl::Span<const UntrustedRange> ranges, void* out);
  // Writes consecutive bytes of `data` into the ranges, in order, until `size` bytes are
  // written.
  virtual bool Scatter(absl::Span<const UntrustedRange> ranges, const void* data, size_t size);

  // Returns true if every byte of the ranges can be written, without changing them: one byte
  // of each page is read and written back. For checking an output buffer before consuming
  // input into it.
  bool CheckWritable(absl::Span<const UntrustedRange> ranges);
};

// A module address space simulated by a buffer in this process: addresses
// [base, base + size) map onto the buffer; everything else is unmapped. For tests and the
// fuzzer.
class BufferMemory : public UntrustedMemory {
 public:
  BufferMemory(uint64_t base, size_t size) : base_(base), bytes_(size) {}

  bool Read(uint64_t address, void* out, size_t size) override;
  bool Write(uint64_t address, const void* data, size_t size) override;

  uint64_t base() const { return base_; }
  size_t size() const { return bytes_.size(); }
  // The module address of byte `offset` of the buffer.
  uint64_t AddressOf(size_t offset) const { return base_ + offset; }
  uint8_t* data() { return bytes_.data(); }

 private:
  bool Contains(uint64_t address, size_t size) const;
  uint64_t base_;
  std::vector<uint8_t> bytes_;
};

// Another process's memory, through process_vm_readv / process_vm_writev on its process id.
// Page protections hold: unreadable or unwritable memory is false (EFAULT). The caller keeps
// `pid` from naming another process (an unreaped child's pid cannot be reused). When the
// process has no memory (it exited, or only its main thread did), calls fail with errno
// ESRCH.
class ProcessMemory : public UntrustedMemory {
 public:
  explicit ProcessMemory(pid_t pid) : pid_(pid) {}

  bool Read(uint64_t address, void* out, size_t size) override;
  bool Write(uint64_t address, const void* data, size_t size) override;
  bool Gather(absl::Span<const UntrustedRange> ranges, void* out) override;
  bool Scatter(absl::Span<const UntrustedRange> ranges, const void* data, size_t size) override;

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

// A process's memory through its open /proc/<pid>/mem file (`fd`, borrowed). The file is
// bound to the address space it was opened on: after that process execs or exits, every
// access fails. The kernel accesses it as a debugger would, so page protections do not hold
// (read-only private pages are written by copy-on-write).
class MemFileMemory : public UntrustedMemory {
 public:
  explicit MemFileMemory(int fd) : fd_(fd) {}

  bool Read(uint64_t address, void* out, size_t size) override;
  bool Write(uint64_t address, const void* data, size_t size) override;

 private:
  int fd_;
};

// Adds `a + b` into `*sum`; returns false on overflow.
inline bool CheckedAdd(size_t a, size_t b, size_t* sum) {
  return !__builtin_add_overflow(a, b, sum);
}

}  // namespace syscalls

#endif  // SYSCALLS_UNTRUSTED_MEMORY_H_
