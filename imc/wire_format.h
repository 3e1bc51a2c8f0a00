// The header every IMC message carries on the wire.
//
// One SOCK_SEQPACKET packet is one message: a 16-byte WireHeader, then the user bytes; the
// host fds ride in one SCM_RIGHTS control message, in tag order, one for each tag that is
// not kInvalid. Every message has a header, so an empty message is not end of stream.
#ifndef IMC_WIRE_FORMAT_H_
#define IMC_WIRE_FORMAT_H_

#include <stddef.h>
#include <stdint.h>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "imc/descriptor.h"

namespace imc {

inline constexpr uint8_t kWireVersion = 1;

// The most user bytes one message carries (NaCl's NACL_ABI_IMC_USER_BYTES_MAX).
inline constexpr size_t kMaxUserBytes = 128 * 1024;

enum class PacketKind : uint8_t {
  kMessage = 0,
  // Tells a connector its request was accepted when no message will say so: sent by Accept()
  // to a connector that waits for acceptance, and by an accepted connection closed before it
  // sent anything. Never delivered to users; it has no bytes and no descriptors.
  kAcceptAck = 1,
};

// Set on every message sent from the accepting end of a connection: tells the connector its
// request was accepted, at no cost (see kAcceptAck for when nothing else is sent).
inline constexpr uint8_t kFlagFromAcceptor = 0x1;
inline constexpr uint8_t kKnownFlags = kFlagFromAcceptor;

struct WireHeader {
  uint8_t version;
  uint8_t packet_kind;
  uint8_t descriptor_count;
  uint8_t flags;  // kFlag* bits.
  uint32_t byte_count;
  uint8_t tags[kMaxDescriptors];
};
static_assert(sizeof(WireHeader) == 16, "the wire header is 16 bytes");

// Returns the header of a message with `byte_count` user bytes and these descriptor kinds.
WireHeader MakeWireHeader(PacketKind kind, uint32_t byte_count,
                          absl::Span<const DescriptorKind> descriptors);

// What a valid header says.
struct ParsedHeader {
  PacketKind packet_kind;
  uint8_t flags;
  size_t byte_count;
  size_t descriptor_count;
  DescriptorKind tags[kMaxDescriptors];
  size_t fd_count;  // Tags that are not kInvalid.
};

// Checks a received header against the packet it came in: `packet_size` bytes in all
// (header included) and `fds_received` host fds. Returns EPROTO naming the first mismatch.
absl::StatusOr<ParsedHeader> ParseWireHeader(const WireHeader& header, size_t packet_size,
                                             size_t fds_received);

}  // namespace imc

#endif  // IMC_WIRE_FORMAT_H_
