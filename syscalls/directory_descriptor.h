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
      : Descriptor(imc::DescriptorKind::kDirectory), fd_(std::move(fd)) {}

  // read(2) of a directory: EISDIR, as Linux answers.
  absl::StatusOr<size_t> Read(const CallContext& context, absl::Span<uint8_t> buffer) override;
  absl::StatusOr<nacl_abi_stat> Stat() const override;
  uint32_t StatModeKind() const override { return NACL_ABI_S_IFDIR; }
  absl::optional<int> DirectoryFd() const override { return fd_.get(); }

  // getdents64 into `buffer`: the records each carry NaCl's fake inode number. Errors: EINVAL
  // if `buffer` holds no record.
  absl::StatusOr<size_t> ReadEntries(absl::Span<uint8_t> buffer) override;

  int fd() const { return fd_.get(); }

 private:
  base::UniqueFd fd_;
};

}  // namespace syscalls

#endif  // SYSCALLS_DIRECTORY_DESCRIPTOR_H_
