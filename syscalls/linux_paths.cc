#include "syscalls/linux_paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/errno_status.h"
#include "base/unique_fd.h"
#include "syscalls/descriptor.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/descriptor_types.h"
#include "syscalls/directory_descriptor.h"
#include "syscalls/linux_compat.h"
#include "syscalls/mounted_directory.h"
#include "syscalls/syscall_errno.h"
#include "syscalls/untrusted_memory.h"

namespace syscalls {
namespace {

// The open(2) flags a module may pass; others are dropped, as Linux ignores unknown ones.
// O_ASYNC (signals to an owner), O_NOATIME and O_DIRECT are host matters.
constexpr int kModuleOpenFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
                                 O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECTORY | O_NOFOLLOW |
                                 O_CLOEXEC | O_LARGEFILE;

// Copies the NUL-terminated path at module `address` into `path`, a page at most at a time so
// that a path ending just before unmapped memory is still read. Returns 0, -EFAULT, or
// -ENAMETOOLONG if PATH_MAX bytes hold no NUL.
int64_t CopyInPath(const CallContext& context, uint64_t address, std::string* path) {
  constexpr size_t kPage = 4096;
  char buffer[PATH_MAX];
  size_t have = 0;
  while (have < sizeof(buffer)) {
    uint64_t at = address + have;
    if (at < address) return -EFAULT;
    size_t chunk = std::min(kPage - static_cast<size_t>(at % kPage), sizeof(buffer) - have);
    if (!context.memory->Read(at, buffer + have, chunk)) return -EFAULT;
    const char* end = static_cast<const char*>(memchr(buffer + have, '\0', chunk));
    if (end != nullptr) {
      path->assign(buffer, static_cast<size_t>(end - buffer));
      return 0;
    }
    have += chunk;
  }
  return -ENAMETOOLONG;
}

// A module path resolved against its starting directory: the path from the root that the
// mounted directory resolves.
struct PathCall {
  const MountedDirectory* root = nullptr;
  std::string path;
};

// Reads the path argument at `address` of a call relative to `dirfd` (AT_FDCWD: the working
// directory, which is the root), and makes it a path from the root. Returns 0 or a negated
// errno: the copy's (EFAULT, ENAMETOOLONG), then EACCES without a mounted directory, EBADF /
// ENOTDIR for a bad `dirfd`, ENOENT for an empty path unless `allow_empty`.
int64_t ReadPathCall(const CallContext& context, int dirfd, uint64_t address, bool allow_empty,
                     PathCall* call) {
  std::string path;
  if (int64_t error = CopyInPath(context, address, &path)) return error;
  call->root = context.table->mounted_directory();
  if (call->root == nullptr) return -EACCES;
  if (path.empty() && !allow_empty) return -ENOENT;
  if (path.empty() || path[0] == '/' || dirfd == AT_FDCWD) {
    call->path = std::move(path);
    return 0;
  }
  DescriptorRef start = context.table->Get(dirfd);
  if (start == nullptr) return -EBADF;
  absl::optional<int> start_fd = start->DirectoryFd();
  if (!start_fd.has_value()) return -ENOTDIR;
  absl::StatusOr<std::string> prefix = call->root->PathOf(*start_fd);
  if (!prefix.ok()) return LinuxResult(prefix.status());
  call->path = prefix->empty() ? path : *prefix + "/" + path;
  return 0;
}

// Opens the path of `call` as O_PATH (without following a last symlink if `nofollow`), for
// calls that look at a file without opening it.
absl::StatusOr<base::UniqueFd> OpenLocation(const PathCall& call, bool nofollow) {
  return call.root->OpenBeneath(call.path, O_PATH | (nofollow ? O_NOFOLLOW : 0), 0);
}

// The parent directory of a path's last component, and that component: where mkdir, unlink
// and rename act. The component is acted on relative to the parent's fd, which follows no
// symlink.
struct NameInParent {
  base::UniqueFd parent;
  std::string name;
};

// Splits the path of `call`. Returns 0 or a negated errno: `root_error` if the path names the
// root itself or ends in "." or "..", which these calls cannot act on; the walk's error.
int64_t ResolveParent(const PathCall& call, int root_error, NameInParent* out) {
  std::string path = call.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
  out->name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (out->name.empty() || out->name == "." || out->name == "..") return -root_error;
  absl::StatusOr<base::UniqueFd> fd = call.root->OpenBeneath(parent, O_PATH | O_DIRECTORY, 0);
  if (!fd.ok()) return LinuxResult(fd.status());
  out->parent = *std::move(fd);
  return 0;
}

int64_t OpenAt(const CallContext& context, int dirfd, uint64_t address, int flags, mode_t mode) {
  PathCall call;
  if (int64_t error = ReadPathCall(context, dirfd, address, /*allow_empty=*/false, &call)) {
    return error;
  }
  if ((flags & O_PATH) != 0) return -EINVAL;  // A location only: no descriptor type holds one.
  if ((flags & O_TMPFILE) == O_TMPFILE) return -EOPNOTSUPP;  // O_TMPFILE holds O_DIRECTORY.
  const int access = flags & O_ACCMODE;
  if (access == O_ACCMODE) return -EINVAL;
  if (call.root->read_only() && (access != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) != 0)) {
    return -EROFS;
  }
  // O_NONBLOCK so that opening a FIFO cannot hang the supervisor; such files are refused below.
  const int host_flags = (flags & kModuleOpenFlags) | O_NOCTTY | O_NONBLOCK;
  absl::StatusOr<base::UniqueFd> fd = call.root->OpenBeneath(call.path, host_flags, mode);
  if (!fd.ok()) return LinuxResult(fd.status());
  struct stat st;
  if (fstat(fd->get(), &st) != 0) return -errno;
  if ((flags & O_NONBLOCK) == 0 && fcntl(fd->get(), F_SETFL, host_flags & ~O_NONBLOCK) != 0) {
    return -errno;
  }
  DescriptorRef descriptor;
  if (S_ISDIR(st.st_mode)) {
    descriptor = std::make_shared<DirectoryDescriptor>(*std::move(fd));
  } else if (S_ISREG(st.st_mode)) {
    // The access the open mode gives (HostIoDescriptor intersects it with the fd's).
    descriptor =
        std::make_shared<HostIoDescriptor>(*std::move(fd), HostIoDescriptor::Access::kReadWrite);
  } else {
    return -EACCES;  // Devices, FIFOs and sockets are not served.
  }
  return context.table->Install(std::move(descriptor));
}

int64_t StatAt(const CallContext& context, int dirfd, uint64_t address, uint64_t out, int flags) {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) != 0) return -EINVAL;
  PathCall call;
  if (int64_t error = ReadPathCall(context, dirfd, address, /*allow_empty=*/false, &call)) {
    return error;
  }
  absl::StatusOr<base::UniqueFd> fd = OpenLocation(call, (flags & AT_SYMLINK_NOFOLLOW) != 0);
  if (!fd.ok()) return LinuxResult(fd.status());
  absl::StatusOr<nacl_abi_stat> st = HostFileStat(fd->get());
  if (!st.ok()) return LinuxResult(st.status());
  struct stat linux_stat = ToLinuxStat(*st);
  if (!context.memory->Write(out, &linux_stat, sizeof(linux_stat))) return -EFAULT;
  return 0;
}

int64_t AccessAt(const CallContext& context, int dirfd, uint64_t address, int mode, int flags) {
  if ((mode & ~(R_OK | W_OK | X_OK)) != 0) return -EINVAL;
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW)) != 0) return -EINVAL;
  PathCall call;
  if (int64_t error = ReadPathCall(context, dirfd, address, /*allow_empty=*/false, &call)) {
    return error;
  }
  absl::StatusOr<base::UniqueFd> fd = OpenLocation(call, (flags & AT_SYMLINK_NOFOLLOW) != 0);
  if (!fd.ok()) return LinuxResult(fd.status());
  if (call.root->read_only() && (mode & W_OK) != 0) return -EROFS;
  if (syscall(SYS_faccessat2, fd->get(), "", mode, AT_EMPTY_PATH | (flags & AT_EACCESS)) != 0) {
    return -errno;
  }
  return 0;
}

int64_t ReadlinkAt(const CallContext& context, int dirfd, uint64_t address, uint64_t out,
                   int64_t size) {
  PathCall call;
  if (int64_t error = ReadPathCall(context, dirfd, address, /*allow_empty=*/false, &call)) {
    return error;
  }
  if (size <= 0) return -EINVAL;
  absl::StatusOr<base::UniqueFd> fd = OpenLocation(call, /*nofollow=*/true);
  if (!fd.ok()) return LinuxResult(fd.status());
  char target[PATH_MAX];
  ssize_t n =
      readlinkat(fd->get(), "", target, std::min(sizeof(target), static_cast<size_t>(size)));
  if (n < 0) return -errno;
  if (!context.memory->Write(out, target, static_cast<size_t>(n))) return -EFAULT;
  return n;
}

int64_t MkdirAt(const CallContext& context, int dirfd, uint64_t address, mode_t mode) {
  PathCall call;
  if (int64_t error = ReadPathCall(context, dirfd, address, /*allow_empty=*/false, &call)) {
    return error;
  }
  if (call.root->read_only()) return -EROFS;
  NameInParent at;
  if (int64_t error = ResolveParent(call, EEXIST, &at)) return error;
  if (mkdirat(at.parent.get(), at.name.c_str(), mode & 07777) != 0) return -errno;
  return 0;
}

int64_t UnlinkAt(const CallContext& context, int dirfd, uint64_t address, int flags) {
  if ((flags & ~AT_REMOVEDIR) != 0) return -EINVAL;
  PathCall call;
  if (int64_t error = ReadPathCall(context, dirfd, address, /*allow_empty=*/false, &call)) {
    return error;
  }
  if (call.root->read_only()) return -EROFS;
  NameInParent at;
  if (int64_t error = ResolveParent(call, (flags & AT_REMOVEDIR) != 0 ? EBUSY : EISDIR, &at)) {
    return error;
  }
  if (unlinkat(at.parent.get(), at.name.c_str(), flags) != 0) return -errno;
  return 0;
}

int64_t RenameAt(const CallContext& context, int old_dirfd, uint64_t old_address, int new_dirfd,
                 uint64_t new_address, unsigned flags) {
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) return -EINVAL;
  PathCall from;
  PathCall to;
  if (int64_t error = ReadPathCall(context, old_dirfd, old_address, false, &from)) return error;
  if (int64_t error = ReadPathCall(context, new_dirfd, new_address, false, &to)) return error;
  if (from.root->read_only()) return -EROFS;
  NameInParent old_at;
  NameInParent new_at;
  if (int64_t error = ResolveParent(from, EBUSY, &old_at)) return error;
  if (int64_t error = ResolveParent(to, EBUSY, &new_at)) return error;
  if (syscall(SYS_renameat2, old_at.parent.get(), old_at.name.c_str(), new_at.parent.get(),
              new_at.name.c_str(), flags) != 0) {
    return -errno;
  }
  return 0;
}

}  // namespace

int64_t LinuxOpen(const CallContext& context, const SyscallArgs& args) {
  return OpenAt(context, AT_FDCWD, args.arg[0], IntArg(args.arg[1]),
                static_cast<mode_t>(args.arg[2]));
}

int64_t LinuxOpenat(const CallContext& context, const SyscallArgs& args) {
  return OpenAt(context, IntArg(args.arg[0]), args.arg[1], IntArg(args.arg[2]),
                static_cast<mode_t>(args.arg[3]));
}

int64_t LinuxCreat(const CallContext& context, const SyscallArgs& args) {
  return OpenAt(context, AT_FDCWD, args.arg[0], O_CREAT | O_WRONLY | O_TRUNC,
                static_cast<mode_t>(args.arg[1]));
}

int64_t LinuxStat(const CallContext& context, const SyscallArgs& args) {
  return StatAt(context, AT_FDCWD, args.arg[0], args.arg[1], 0);
}

int64_t LinuxLstat(const CallContext& context, const SyscallArgs& args) {
  return StatAt(context, AT_FDCWD, args.arg[0], args.arg[1], AT_SYMLINK_NOFOLLOW);
}

int64_t LinuxPathNewfstatat(const CallContext& context, const SyscallArgs& args) {
  const int flags = IntArg(args.arg[3]);
  char first = 0;
  if ((flags & AT_EMPTY_PATH) != 0 && context.memory->Read(args.arg[1], &first, 1) &&
      first == '\0') {
    SyscallArgs fstat_args = {{args.arg[0], args.arg[2], 0, 0, 0, 0}};
    return LinuxFstat(context, fstat_args);
  }
  return StatAt(context, IntArg(args.arg[0]), args.arg[1], args.arg[2], flags);
}

int64_t LinuxAccess(const CallContext& context, const SyscallArgs& args) {
  return AccessAt(context, AT_FDCWD, args.arg[0], IntArg(args.arg[1]), 0);
}

int64_t LinuxFaccessat(const CallContext& context, const SyscallArgs& args) {
  return AccessAt(context, IntArg(args.arg[0]), args.arg[1], IntArg(args.arg[2]), 0);
}

int64_t LinuxFaccessat2(const CallContext& context, const SyscallArgs& args) {
  return AccessAt(context, IntArg(args.arg[0]), args.arg[1], IntArg(args.arg[2]),
                  IntArg(args.arg[3]));
}

int64_t LinuxReadlink(const CallContext& context, const SyscallArgs& args) {
  return ReadlinkAt(context, AT_FDCWD, args.arg[0], args.arg[1], IntArg(args.arg[2]));
}

int64_t LinuxReadlinkat(const CallContext& context, const SyscallArgs& args) {
  return ReadlinkAt(context, IntArg(args.arg[0]), args.arg[1], args.arg[2], IntArg(args.arg[3]));
}

int64_t LinuxGetdents64(const CallContext& context, const SyscallArgs& args) {
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[0]));
  if (descriptor == nullptr) return -EBADF;
  if (!descriptor->DirectoryFd().has_value()) return -ENOTDIR;
  // Entries read are gone from the directory stream: check the buffer before reading.
  const size_t size = std::min<uint64_t>(static_cast<uint32_t>(args.arg[2]), 1 << 16);
  if (!context.memory->CheckWritable({{args.arg[1], size}})) return -EFAULT;
  std::vector<uint8_t> buffer(size);
  absl::StatusOr<size_t> n = descriptor->ReadEntries(absl::MakeSpan(buffer));
  if (!n.ok()) return LinuxResult(n.status());
  if (!context.memory->Write(args.arg[1], buffer.data(), *n)) return -EFAULT;
  return static_cast<int64_t>(*n);
}

int64_t LinuxMkdir(const CallContext& context, const SyscallArgs& args) {
  return MkdirAt(context, AT_FDCWD, args.arg[0], static_cast<mode_t>(args.arg[1]));
}

int64_t LinuxMkdirat(const CallContext& context, const SyscallArgs& args) {
  return MkdirAt(context, IntArg(args.arg[0]), args.arg[1], static_cast<mode_t>(args.arg[2]));
}

int64_t LinuxUnlink(const CallContext& context, const SyscallArgs& args) {
  return UnlinkAt(context, AT_FDCWD, args.arg[0], 0);
}

int64_t LinuxUnlinkat(const CallContext& context, const SyscallArgs& args) {
  return UnlinkAt(context, IntArg(args.arg[0]), args.arg[1], IntArg(args.arg[2]));
}

int64_t LinuxRmdir(const CallContext& context, const SyscallArgs& args) {
  return UnlinkAt(context, AT_FDCWD, args.arg[0], AT_REMOVEDIR);
}

int64_t LinuxRename(const CallContext& context, const SyscallArgs& args) {
  return RenameAt(context, AT_FDCWD, args.arg[0], AT_FDCWD, args.arg[1], 0);
}

int64_t LinuxRenameat(const CallContext& context, const SyscallArgs& args) {
  return RenameAt(context, IntArg(args.arg[0]), args.arg[1], IntArg(args.arg[2]), args.arg[3], 0);
}

int64_t LinuxRenameat2(const CallContext& context, const SyscallArgs& args) {
  return RenameAt(context, IntArg(args.arg[0]), args.arg[1], IntArg(args.arg[2]), args.arg[3],
                  static_cast<unsigned>(args.arg[4]));
}

}  // namespace syscalls
