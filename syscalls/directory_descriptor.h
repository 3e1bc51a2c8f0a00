// A directory of the mounted root (sel_ldr -m), opened by the module: getdents64, fstat, and
// the starting point of *at calls. It does not travel in messages: a directory fd sent to
// another process would be a root outside that process's own mount.
#ifndef SYSCALLS_DIRECTORY_DESCRIPTOR_H_
#define SYSCALLS_DIRECTORY_DESCRIPTOR_H_

#include <stddef.h>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/unique_fd.h"
#include "syscalls/descriptor.h"

namespace syscalls {

class DirectoryDescriptor final : public Descriptor {
 public:
  // `fd`: a host directory opened for reading, beneath the mounted root.
  explicit DirectoryDescriptor(base::UniqueFd fd)
      : Descriptor(DescriptorType::kDirectory), fd_(std::move(fd)) {}

  // read(2) of a directory: EISDIR, as Linux answers.
  absl::StatusOr<size_t> Read(const CallContext& context, absl::Span<uint8_t> buffer) override;
  absl::StatusOr<nacl_abi_stat> Stat() const override;

  // getdents64 into `buffer`: returns the bytes of linux_dirent64 records written (0 at the
  // end), each with NaCl's fake inode number. Errors: EINVAL if `buffer` holds no record.
  absl::StatusOr<size_t> ReadEntries(absl::Span<uint8_t> buffer);

  int fd() const { return fd_.get(); }

 private:
  base::UniqueFd fd_;
};

}  // namespace syscalls

#endif  // SYSCALLS_DIRECTORY_DESCRIPTOR_H_
