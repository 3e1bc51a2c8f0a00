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

// Returns what keeps `fd` from being an IMC socket, or "" if nothing does. Two syscalls (about
// 0.1-0.4 us each here), run for every socket descriptor of every message and every connection
// request: a socket of another family or type (a unix DGRAM socket, UDP, netlink) would never
// report its peer gone and leave a receiver blocked forever, a STREAM socket would lose message
// boundaries, and a listening or unconnected socket has no peer at all. getpeername answers the
// family and the connection state at once: it fails (ENOTCONN) for listening and never-connected
// sockets, and names the peer's family for a connected one (a connected socket whose peer has
// since closed still answers, and reports end of stream on use).
absl::string_view ImcSocketMismatch(int fd) {
  struct sockaddr_storage peer;
  socklen_t length = sizeof(peer);
  if (getpeername(fd, reinterpret_cast<struct sockaddr*>(&peer), &length) != 0) {
    if (errno == ENOTSOCK || errno == EBADF) return "is not a socket";
    return "is not a connected AF_UNIX socket (a listening or unconnected socket?)";
  }
  if (length < sizeof(sa_family_t) || peer.ss_family != AF_UNIX) {
    return "is not an AF_UNIX socket";
  }
  int type = 0;
  if (!GetSocketOption(fd, SO_TYPE, &type) || type != SOCK_SEQPACKET) {
    return "is not a SOCK_SEQPACKET socket";
  }
  return "";
}

// The checks of a received fd, one per kind that travels. They run for every descriptor of
// every message: keep them to a few syscalls.

absl::Status CheckNoFd(int fd, DescriptorKind kind) {
  if (fd >= 0) return Mismatch(kind, "came with a host fd");
  return absl::OkStatus();
}

absl::Status CheckImcSocketFd(int fd, DescriptorKind kind) {
  absl::string_view why = ImcSocketMismatch(fd);
  if (!why.empty()) return Mismatch(kind, why);
  return absl::OkStatus();
}

absl::Status CheckSealedMemfd(int fd, DescriptorKind kind) {
  // Only memfds (shmem and hugetlbfs files) answer F_GET_SEALS; sealed size means no holder
  // can shrink the object under another's mapping.
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0) return Mismatch(kind, "is not a memfd");
  if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
    return Mismatch(kind, "is a memfd whose size is not sealed");
  }
  return absl::OkStatus();
}

absl::Status CheckAnyFd(int, DescriptorKind) {
  // Any host fd the sender holds: it grants plain read and write on that fd (as far as its
  // wire tag's access says), nothing the sender could not do itself. fds that arrive by
  // SCM_RIGHTS are always open.
  return absl::OkStatus();
}

// What imc knows of each kind: its name and, for a kind that travels, the check of a
// received fd (null for a kind that may not travel).
struct KindTraits {
  DescriptorKind kind;
  const char* name;
  absl::Status (*check)(int fd, DescriptorKind kind);
};

constexpr KindTraits kKinds[] = {
    {DescriptorKind::kInvalid, "Invalid", CheckNoFd},
    {DescriptorKind::kSocketAddress, "SocketAddress", CheckImcSocketFd},
    {DescriptorKind::kDataOnlySocket, "DataOnlySocket", CheckImcSocketFd},
    {DescriptorKind::kSharedMemory, "SharedMemory", CheckSealedMemfd},
    {DescriptorKind::kHostIo, "HostIo", CheckAnyFd},
    {DescriptorKind::kBoundSocket, "BoundSocket", nullptr},
    {DescriptorKind::kConnectedSocket, "ConnectedSocket", nullptr},
    {DescriptorKind::kDirectory, "Directory", nullptr},
};

const KindTraits* TraitsOf(DescriptorKind kind) {
  for (const KindTraits& traits : kKinds) {
    if (traits.kind == kind) return &traits;
  }
  return nullptr;
}

}  // namespace

const char* DescriptorKindName(DescriptorKind kind) {
  const KindTraits* traits = TraitsOf(kind);
  return traits != nullptr ? traits->name : "unknown";
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
  absl::string_view why = ImcSocketMismatch(fd);
  if (!why.empty()) return base::ErrnoStatus(EPROTO, absl::StrCat("the fd ", why));
  return absl::OkStatus();
}

absl::Status CheckDescriptorKind(int fd, DescriptorKind kind) {
  const KindTraits* traits = TraitsOf(kind);
  if (traits == nullptr || traits->check == nullptr) return Mismatch(kind, "has an unknown kind");
  return traits->check(fd, kind);
}

}  // namespace imc
