#include "syscalls/mounted_directory.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"

namespace syscalls {
namespace {

// How often a walk that met a concurrent rename (EAGAIN) is tried again before the module is
// told EAGAIN. The kernel's check is conservative: any rename on the machine may cause it.
constexpr int kWalkAttempts = 64;

absl::StatusOr<std::string> LinkTarget(int fd) {
  char buffer[PATH_MAX + 1];
  const std::string link = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = readlink(link.c_str(), buffer, PATH_MAX);
  if (n < 0) return base::ErrnoStatus(errno, "readlink of a directory descriptor");
  return std::string(buffer, static_cast<size_t>(n));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const MountedDirectory>> MountedDirectory::Open(
    const std::string& path, bool read_only) {
  base::UniqueFd root(open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return base::ErrnoStatus(errno, path);
  return std::shared_ptr<const MountedDirectory>(new MountedDirectory(std::move(root), read_only));
}

absl::StatusOr<base::UniqueFd> MountedDirectory::OpenBeneath(const std::string& path, int flags,
                                                             mode_t mode) const {
  open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  // The kernel refuses a mode without O_CREAT or O_TMPFILE.
  how.mode = ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) ? (mode & 07777) : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  const char* name = path.empty() ? "." : path.c_str();
  for (int attempt = 0;; ++attempt) {
    long fd = syscall(SYS_openat2, root_.get(), name, &how, sizeof(how));
    if (fd >= 0) return base::UniqueFd(static_cast<int>(fd));
    if ((errno == EAGAIN || errno == EINTR) && attempt + 1 < kWalkAttempts) continue;
    return base::ErrnoStatus(errno, "openat2 beneath the mounted directory");
  }
}

absl::StatusOr<std::string> MountedDirectory::PathOf(int directory_fd) const {
  absl::StatusOr<std::string> root = LinkTarget(root_.get());
  if (!root.ok()) return root.status();
  absl::StatusOr<std::string> directory = LinkTarget(directory_fd);
  if (!directory.ok()) return directory.status();
  if (*directory == *root) return std::string();
  // The root itself may be "/", whose children are "/x".
  const std::string prefix = root->back() == '/' ? *root : *root + "/";
  if (directory->compare(0, prefix.size(), prefix) != 0) {
    return base::ErrnoStatus(ENOENT, "the directory is no longer beneath the mounted directory");
  }
  return directory->substr(prefix.size());
}

}  // namespace syscalls
