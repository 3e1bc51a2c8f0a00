#include "syscalls/directory_descriptor.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/errno_status.h"
#include "syscalls/descriptor_types.h"

namespace syscalls {
namespace {

// The head of a linux_dirent64 record: inode, offset cookie, record length.
struct DirentHead {
  uint64_t ino;
  int64_t off;
  uint16_t reclen;
};

}  // namespace

absl::StatusOr<size_t> DirectoryDescriptor::Read(const CallContext&, absl::Span<uint8_t>) {
  return base::ErrnoStatus(EISDIR, "read of a directory");
}

absl::StatusOr<nacl_abi_stat> DirectoryDescriptor::Stat() const { return HostFileStat(fd_.get()); }

absl::StatusOr<size_t> DirectoryDescriptor::ReadEntries(absl::Span<uint8_t> buffer) {
  long n;
  do {
    n = syscall(SYS_getdents64, fd_.get(), buffer.data(), buffer.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return base::ErrnoStatus(errno, "getdents64");
  // Host inode numbers name host objects; fstat shows the fake one, and so do the entries.
  const uint64_t fake = NACL_ABI_FAKE_INODE_NUM;
  for (size_t at = 0; at + sizeof(DirentHead) <= static_cast<size_t>(n);) {
    DirentHead head;
    memcpy(&head, buffer.data() + at, sizeof(head));
    memcpy(buffer.data() + at + offsetof(DirentHead, ino), &fake, sizeof(fake));
    if (head.reclen == 0) break;
    at += head.reclen;
  }
  return static_cast<size_t>(n);
}

}  // namespace syscalls
