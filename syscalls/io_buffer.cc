#include "syscalls/io_buffer.h"

#include <sys/mman.h>

#include <new>

namespace syscalls {
namespace {

// Below this, the heap's own free memory serves.
constexpr size_t kMapAtLeast = 16 * 1024;

}  // namespace

IoBuffer::IoBuffer(size_t size) : size_(size) {
  if (size == 0) return;
  if (size < kMapAtLeast) {
    data_ = new (std::nothrow) uint8_t[size];
    return;
  }
  void* mapping = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) return;
  data_ = static_cast<uint8_t*>(mapping);
  mapped_ = true;
}

IoBuffer::~IoBuffer() {
  if (mapped_) {
    munmap(data_, size_);
  } else {
    delete[] data_;
  }
}

}  // namespace syscalls
