#include "imc/descriptor.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"

namespace imc {
namespace {

absl::Status Mismatch(DescriptorKind kind, absl::string_view why) {
  return base::ErrnoStatus(EPROTO,
                           absl::StrCat("descriptor tagged ", DescriptorKindName(kind), " ", why));
}

bool GetSocketOption(int fd, int option, int* value) {
  socklen_t length = sizeof(*value);
  return getsockopt(fd, SOL_SOCKET, option, value, &length) == 0;
}

bool IsUnixSeqpacket(int fd) {
  int domain = 0;
  int type = 0;
  return GetSocketOption(fd, SO_DOMAIN, &domain) && domain == AF_UNIX &&
         GetSocketOption(fd, SO_TYPE, &type) && type == SOCK_SEQPACKET;
}

}  // namespace

const char* DescriptorKindName(DescriptorKind kind) {
  switch (kind) {
    case DescriptorKind::kInvalid:
      return "Invalid";
    case DescriptorKind::kSocketAddress:
      return "SocketAddress";
    case DescriptorKind::kDataOnlySocket:
      return "DataOnlySocket";
    case DescriptorKind::kSharedMemory:
      return "SharedMemory";
    case DescriptorKind::kHostIo:
      return "HostIo";
  }
  return "unknown";
}

bool IsKnownDescriptorKind(uint8_t tag) {
  return tag <= static_cast<uint8_t>(DescriptorKind::kHostIo);
}

bool IsKnownHostIoAccess(uint8_t access) {
  return access <= static_cast<uint8_t>(HostIoAccess::kReadWrite);
}

HostIoAccess AccessOfFd(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || (flags & O_PATH) != 0) return HostIoAccess::kNone;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      return HostIoAccess::kReadOnly;
    case O_WRONLY:
      return HostIoAccess::kWriteOnly;
    case O_RDWR:
      return HostIoAccess::kReadWrite;
  }
  return HostIoAccess::kNone;
}

const char* HostIoAccessName(HostIoAccess access) {
  switch (access) {
    case HostIoAccess::kNone:
      return "none";
    case HostIoAccess::kReadOnly:
      return "read-only";
    case HostIoAccess::kWriteOnly:
      return "write-only";
    case HostIoAccess::kReadWrite:
      return "read-write";
  }
  return "unknown";
}

absl::Status CheckImcSocket(int fd) {
  int listening = 0;
  if (!IsUnixSeqpacket(fd)) {
    return base::ErrnoStatus(EPROTO, "not an AF_UNIX SOCK_SEQPACKET socket");
  }
  if (!GetSocketOption(fd, SO_ACCEPTCONN, &listening) || listening != 0) {
    return base::ErrnoStatus(EPROTO, "a listening socket is not an IMC socket");
  }
  return absl::OkStatus();
}

absl::Status CheckDescriptorKind(int fd, DescriptorKind kind) {
  switch (kind) {
    case DescriptorKind::kInvalid:
      if (fd >= 0) return Mismatch(kind, "came with a host fd");
      return absl::OkStatus();
    // One syscall per descriptor: these checks run for every descriptor of every message.
    case DescriptorKind::kSocketAddress:
    case DescriptorKind::kDataOnlySocket: {
      // The packet semantics everything here relies on. A socket of another family or a
      // listening one fails its first use with an error, and cannot carry fds either way.
      int type = 0;
      if (!GetSocketOption(fd, SO_TYPE, &type) || type != SOCK_SEQPACKET) {
        return Mismatch(kind, "is not a SOCK_SEQPACKET socket");
      }
      return absl::OkStatus();
    }
    case DescriptorKind::kSharedMemory: {
      // Only memfds (shmem and hugetlbfs files) answer F_GET_SEALS; sealed size means no
      // holder can shrink the object under another's mapping.
      int seals = fcntl(fd, F_GET_SEALS);
      if (seals < 0) return Mismatch(kind, "is not a memfd");
      if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
        return Mismatch(kind, "is a memfd whose size is not sealed");
      }
      return absl::OkStatus();
    }
    case DescriptorKind::kHostIo:
      // Any host fd the sender holds: it grants plain read and write on that fd (as far as
      // its wire tag's access says), nothing the sender could not do itself. fds that
      // arrive by SCM_RIGHTS are always open.
      return absl::OkStatus();
  }
  return Mismatch(kind, "has an unknown kind");
}

}  // namespace imc
