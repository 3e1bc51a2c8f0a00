// The supervisor's buffer for the data of one call. Large buffers are fresh anonymous memory
// that costs nothing until written: a call that blocks before its data arrives holds address
// space, not memory, so hundreds of blocked calls stay cheap.
#ifndef SYSCALLS_IO_BUFFER_H_
#define SYSCALLS_IO_BUFFER_H_

#include <stddef.h>
#include <stdint.h>

#include "absl/types/span.h"

namespace syscalls {

class IoBuffer {
 public:
  // A buffer of `size` bytes, not initialized. ok() is false if there was no memory.
  explicit IoBuffer(size_t size);
  ~IoBuffer();
  IoBuffer(const IoBuffer&) = delete;
  IoBuffer& operator=(const IoBuffer&) = delete;

  bool ok() const { return size_ == 0 || data_ != nullptr; }
  uint8_t* data() { return data_; }
  size_t size() const { return size_; }
  absl::Span<uint8_t> span() { return {data_, size_}; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace syscalls

#endif  // SYSCALLS_IO_BUFFER_H_
