#include "syscalls/untrusted_memory.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>

namespace syscalls {
namespace {

// process_vm_readv / writev take at most IOV_MAX iovecs per side.
constexpr size_t kMaxIovecsPerCall = 1024;

// Moves `size` bytes between a local buffer and remote `ranges` with one process_vm_* call
// per batch of ranges. Returns false unless every byte moved.
template <typename Transfer>
bool TransferRanges(absl::Span<const UntrustedRange> ranges, char* local, size_t size,
                    Transfer transfer) {
  size_t done = 0;
  size_t index = 0;
  iovec remote[kMaxIovecsPerCall];
  while (done < size) {
    size_t count = 0;
    size_t batch = 0;
    while (index < ranges.size() && count < kMaxIovecsPerCall && done + batch < size) {
      const UntrustedRange& r = ranges[index++];
      size_t take = std::min(r.size, size - done - batch);
      if (take == 0) continue;
      if (r.address > UINTPTR_MAX - take) return false;
      remote[count++] = {reinterpret_cast<void*>(static_cast<uintptr_t>(r.address)), take};
      batch += take;
    }
    if (count == 0) {  // The ranges hold fewer than `size` bytes.
      errno = EFAULT;
      return false;
    }
    iovec mine = {local + done, batch};
    ssize_t moved = transfer(&mine, remote, count);
    if (moved < 0) return false;  // errno says why: EFAULT, or ESRCH without memory.
    if (static_cast<size_t>(moved) != batch) {
      errno = EFAULT;
      return false;
    }
    done += batch;
  }
  return true;
}

size_t TotalSize(absl::Span<const UntrustedRange> ranges) {
  size_t total = 0;
  for (const UntrustedRange& r : ranges) {
    if (!CheckedAdd(total, r.size, &total)) return SIZE_MAX;
  }
  return total;
}

}  // namespace

bool UntrustedMemory::Gather(absl::Span<const UntrustedRange> ranges, void* out) {
  char* cursor = static_cast<char*>(out);
  for (const UntrustedRange& r : ranges) {
    if (!Read(r.address, cursor, r.size)) return false;
    cursor += r.size;
  }
  return true;
}

bool UntrustedMemory::Scatter(absl::Span<const UntrustedRange> ranges, const void* data,
                              size_t size) {
  const char* cursor = static_cast<const char*>(data);
  for (const UntrustedRange& r : ranges) {
    if (size == 0) break;
    size_t take = std::min(r.size, size);
    if (!Write(r.address, cursor, take)) return false;
    cursor += take;
    size -= take;
  }
  return size == 0;
}

bool UntrustedMemory::CheckWritable(absl::Span<const UntrustedRange> ranges) {
  constexpr uint64_t kPage = 4096;
  std::vector<UntrustedRange> probes;
  for (const UntrustedRange& r : ranges) {
    if (r.size == 0) continue;
    if (r.address > UINT64_MAX - (r.size - 1)) return false;
    const uint64_t last = r.address + (r.size - 1);
    probes.push_back({r.address, 1});
    for (uint64_t page = (r.address / kPage + 1) * kPage; page <= last && page != 0;
         page += kPage) {
      probes.push_back({page, 1});
    }
  }
  std::vector<uint8_t> bytes(probes.size());
  return Gather(probes, bytes.data()) && Scatter(probes, bytes.data(), bytes.size());
}

bool BufferMemory::Contains(uint64_t address, size_t size) const {
  if (address < base_) return false;
  uint64_t offset = address - base_;
  return offset <= bytes_.size() && size <= bytes_.size() - offset;
}

bool BufferMemory::Read(uint64_t address, void* out, size_t size) {
  if (size == 0) return true;
  if (!Contains(address, size)) return false;
  memcpy(out, bytes_.data() + (address - base_), size);
  return true;
}

bool BufferMemory::Write(uint64_t address, const void* data, size_t size) {
  if (size == 0) return true;
  if (!Contains(address, size)) return false;
  memcpy(bytes_.data() + (address - base_), data, size);
  return true;
}

bool ProcessMemory::Read(uint64_t address, void* out, size_t size) {
  if (size == 0) return true;
  UntrustedRange range = {address, size};
  return Gather({&range, 1}, out);
}

bool ProcessMemory::Write(uint64_t address, const void* data, size_t size) {
  if (size == 0) return true;
  UntrustedRange range = {address, size};
  return Scatter({&range, 1}, data, size);
}

bool ProcessMemory::Gather(absl::Span<const UntrustedRange> ranges, void* out) {
  size_t size = TotalSize(ranges);
  if (size == SIZE_MAX) return false;
  return TransferRanges(ranges, static_cast<char*>(out), size,
                        [this](iovec* local, iovec* remote, size_t count) {
                          return process_vm_readv(pid_, local, 1, remote, count, 0);
                        });
}

bool ProcessMemory::Scatter(absl::Span<const UntrustedRange> ranges, const void* data,
                            size_t size) {
  return TransferRanges(ranges, const_cast<char*>(static_cast<const char*>(data)), size,
                        [this](iovec* local, iovec* remote, size_t count) {
                          return process_vm_writev(pid_, local, 1, remote, count, 0);
                        });
}

namespace {

// pread / pwrite of the whole range; a short transfer stopped at an inaccessible page.
template <typename Transfer>
bool TransferAll(uint64_t address, char* local, size_t size, Transfer transfer) {
  if (size == 0) return true;
  if (address > static_cast<uint64_t>(INT64_MAX) - size) return false;  // Beyond any offset.
  while (size > 0) {
    ssize_t moved = transfer(local, size, static_cast<off_t>(address));
    if (moved < 0 && errno == EINTR) continue;
    if (moved <= 0) return false;
    local += moved;
    address += static_cast<uint64_t>(moved);
    size -= static_cast<size_t>(moved);
  }
  return true;
}

}  // namespace

bool MemFileMemory::Read(uint64_t address, void* out, size_t size) {
  return TransferAll(
      address, static_cast<char*>(out), size,
      [this](char* local, size_t n, off_t offset) { return pread(fd_, local, n, offset); });
}

bool MemFileMemory::Write(uint64_t address, const void* data, size_t size) {
  return TransferAll(
      address, const_cast<char*>(static_cast<const char*>(data)), size,
      [this](char* local, size_t n, off_t offset) { return pwrite(fd_, local, n, offset); });
}

}  // namespace syscalls
