// The kinds of descriptor, those that may travel in an IMC message, and the checks that a
// received host fd really is what its sender said.
#ifndef IMC_DESCRIPTOR_H_
#define IMC_DESCRIPTOR_H_

#include <stddef.h>
#include <stdint.h>

#include "absl/status/status.h"
#include "base/unique_fd.h"

namespace imc {

// At most this many descriptors travel in one message (NaCl's NACL_ABI_IMC_DESC_MAX).
inline constexpr size_t kMaxDescriptors = 8;

// The kinds of descriptor there are: the one vocabulary of descriptor kinds, for imc and for
// the syscall layer above it. A kind that may travel in a message has a number below 16 (the
// wire tag's kind field), which is its wire tag; the kinds that may not travel are numbered
// beyond that field, so that no tag can name them.
enum class DescriptorKind : uint8_t {
  kInvalid = 0,  // NaCl's -1 marker: no fd travels.
  kSocketAddress =
      1,  // Connected AF_UNIX SOCK_SEQPACKET: the sending end of a bound socket's pair.
  kDataOnlySocket = 2,  // Connected AF_UNIX SOCK_SEQPACKET: one end of a MakeDataOnlyPair().
  kSharedMemory = 3,    // A memfd whose size is sealed (see SharedMemory).
  kHostIo = 4,          // Any host fd, for plain I/O.
  // Held, never sent.
  kBoundSocket = 16,      // The accepting end of MakeBoundSocket().
  kConnectedSocket = 17,  // A connection from accept or connect.
  kDirectory = 18,        // A directory beneath a module's mounted root.
};

// Returns "SocketAddress", "DataOnlySocket", ..., or "unknown" for a value out of range.
const char* DescriptorKindName(DescriptorKind kind);

// True for the values a wire tag may hold: the kinds that may travel.
bool IsKnownDescriptorKind(uint8_t tag);

// What a HostIo descriptor grants on its fd: a bit for read and one for write. It travels
// with the descriptor (in its wire tag), so that a read-only or write-only grant stays one
// however often it is passed on: the fd itself may be open read-write.
enum class HostIoAccess : uint8_t {
  kNone = 0,
  kReadOnly = 1,
  kWriteOnly = 2,
  kReadWrite = 3,
};

// True for the values a HostIoAccess may hold.
bool IsKnownHostIoAccess(uint8_t access);

// True if `access` grants reading, respectively writing.
inline bool CanRead(HostIoAccess access) {
  return (static_cast<uint8_t>(access) & static_cast<uint8_t>(HostIoAccess::kReadOnly)) != 0;
}
inline bool CanWrite(HostIoAccess access) {
  return (static_cast<uint8_t>(access) & static_cast<uint8_t>(HostIoAccess::kWriteOnly)) != 0;
}

// The access both `a` and `b` grant.
inline HostIoAccess Intersect(HostIoAccess a, HostIoAccess b) {
  return static_cast<HostIoAccess>(static_cast<uint8_t>(a) & static_cast<uint8_t>(b));
}

// The access the open mode of host fd `fd` allows (F_GETFL): kNone if it is not open or
// is opened with O_PATH.
HostIoAccess AccessOfFd(int fd);

// Returns "none", "read-only", "write-only", "read-write", or "unknown".
const char* HostIoAccessName(HostIoAccess access);

// A descriptor to send: its kind, a borrowed host fd (-1 for kInvalid) and, for kHostIo,
// the access it grants (the receiver intersects it with the fd's open mode, so the default
// grants what the fd allows). `access` is ignored for other kinds.
struct OutgoingDescriptor {
  DescriptorKind kind;
  int fd;
  HostIoAccess access = HostIoAccess::kReadWrite;
};

// A received descriptor: its kind and the owned host fd (not valid for kInvalid). For
// kHostIo, `access` is what the sender granted intersected with the fd's open mode; kNone
// for other kinds. To pass it on, send it with the same access.
struct IncomingDescriptor {
  DescriptorKind kind;
  base::UniqueFd fd;
  HostIoAccess access = HostIoAccess::kNone;
};

// Returns OK if `fd` really is a descriptor of `kind` as far as the kernel can tell
// (socket family and type, memfd seals, ...); otherwise EPROTO naming what was wrong.
absl::Status CheckDescriptorKind(int fd, DescriptorKind kind);

// Returns OK if `fd` is a connected AF_UNIX SOCK_SEQPACKET socket (not listening, not
// unconnected; its peer may have closed since), else EPROTO saying what it is not.
absl::Status CheckImcSocket(int fd);

}  // namespace imc

#endif  // IMC_DESCRIPTOR_H_
