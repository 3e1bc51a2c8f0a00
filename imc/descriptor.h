// The kinds of descriptor that may travel in an IMC message, and the checks that a received
// host fd really is what its sender said.
#ifndef IMC_DESCRIPTOR_H_
#define IMC_DESCRIPTOR_H_

#include <stddef.h>
#include <stdint.h>

#include "absl/status/status.h"
#include "base/unique_fd.h"

namespace imc {

// At most this many descriptors travel in one message (NaCl's NACL_ABI_IMC_DESC_MAX).
inline constexpr size_t kMaxDescriptors = 8;

// The wire tag of a transferable descriptor. BoundSocket and ConnectedSocket have no tag:
// they may not travel.
enum class DescriptorKind : uint8_t {
  kInvalid = 0,  // NaCl's -1 marker: no fd travels.
  kSocketAddress =
      1,  // Connected AF_UNIX SOCK_SEQPACKET: the sending end of a bound socket's pair.
  kDataOnlySocket = 2,  // Connected AF_UNIX SOCK_SEQPACKET: one end of a MakeDataOnlyPair().
  kSharedMemory = 3,    // A memfd whose size is sealed (see SharedMemory).
  kHostIo = 4,          // Any host fd, for plain I/O.
};

// Returns "SocketAddress", "DataOnlySocket", ..., or "unknown" for a value out of range.
const char* DescriptorKindName(DescriptorKind kind);

// True for the values a wire tag may hold.
bool IsKnownDescriptorKind(uint8_t tag);

// A descriptor to send: its kind and a borrowed host fd (-1 for kInvalid).
struct OutgoingDescriptor {
  DescriptorKind kind;
  int fd;
};

// A received descriptor: its kind and the owned host fd (not valid for kInvalid).
struct IncomingDescriptor {
  DescriptorKind kind;
  base::UniqueFd fd;
};

// Returns OK if `fd` really is a descriptor of `kind` as far as the kernel can tell
// (socket family and type, memfd seals, ...); otherwise EPROTO naming what was wrong.
absl::Status CheckDescriptorKind(int fd, DescriptorKind kind);

// Returns OK if `fd` is a connected AF_UNIX SOCK_SEQPACKET socket (not listening, not
// unconnected; its peer may have closed since), else EPROTO saying what it is not.
absl::Status CheckImcSocket(int fd);

}  // namespace imc

#endif  // IMC_DESCRIPTOR_H_
