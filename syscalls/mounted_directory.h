// A host directory mounted as the module's root: sel_ldr -m DIR[:ro], Native Client's "mount
// directory as root".
//
// Every path the module names is resolved by the kernel with openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) from one directory fd opened once for DIR: ".."
// stops at DIR, absolute symlinks inside DIR are read as relative to DIR (as a chroot would),
// /proc-style magic links are refused, and no mount point below DIR is crossed. The kernel
// checks this for the whole walk, so a concurrent rename cannot lead the walk outside (it
// answers EAGAIN and the walk is retried). Calls that act on a name (mkdir, unlink, rename)
// resolve the parent this way and then act on the last component relative to that parent's
// fd, which never follows a symlink.
#ifndef SYSCALLS_MOUNTED_DIRECTORY_H_
#define SYSCALLS_MOUNTED_DIRECTORY_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace syscalls {

class MountedDirectory {
 public:
  // Opens host directory `path` as a root. Errors: the open error (ENOENT, ENOTDIR, EACCES).
  static absl::StatusOr<std::shared_ptr<const MountedDirectory>> Open(const std::string& path,
                                                                      bool read_only);

  // True for -m DIR:ro: every call that would change DIR answers EROFS.
  bool read_only() const { return read_only_; }

  // Opens `path`, a path in the module's view ("/a/b" or "a/b", both from the root), with
  // open(2) `flags` and `mode`, resolved beneath the root. Returns the fd (close-on-exec).
  // Errors carry the kernel's errno (ENOENT, ELOOP for a magic link, EXDEV for a mount
  // point, ...); EAGAIN only if renames kept racing with the walk.
  absl::StatusOr<base::UniqueFd> OpenBeneath(const std::string& path, int flags, mode_t mode) const;

  // The module's path of host directory `directory_fd` (relative to the root, "" for the root
  // itself), for resolving a path relative to a directory descriptor. Errors: ENOENT if the
  // directory is no longer beneath the root (the host moved or removed it).
  absl::StatusOr<std::string> PathOf(int directory_fd) const;

 private:
  MountedDirectory(base::UniqueFd root, bool read_only)
      : root_(std::move(root)), read_only_(read_only) {}

  base::UniqueFd root_;  // O_PATH | O_DIRECTORY.
  bool read_only_;
};

}  // namespace syscalls

#endif  // SYSCALLS_MOUNTED_DIRECTORY_H_
