// Shared memory that travels in IMC messages: a memfd whose size is sealed, so that no
// holder can shrink it under another's mapping.
#ifndef IMC_SHARED_MEMORY_H_
#define IMC_SHARED_MEMORY_H_

#include <stddef.h>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace imc {

class SharedMemory {
 public:
  // Returns a zero-filled object of `size` bytes (> 0), or EINVAL / the memfd error.
  static absl::StatusOr<SharedMemory> Create(size_t size);

  // Adopts `fd` after checking that it is a size-sealed memfd (EPROTO otherwise).
  static absl::StatusOr<SharedMemory> FromFd(base::UniqueFd fd);

  size_t size() const { return size_; }
  int fd() const { return fd_.get(); }

 private:
  SharedMemory(base::UniqueFd fd, size_t size) : fd_(std::move(fd)), size_(size) {}
  base::UniqueFd fd_;
  size_t size_;
};

}  // namespace imc

#endif  // IMC_SHARED_MEMORY_H_
