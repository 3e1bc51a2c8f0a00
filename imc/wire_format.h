// The header every IMC message carries on the wire.
//
// One SOCK_SEQPACKET packet is one message: a 16-byte WireHeader, then the user bytes; the
// host fds ride in one SCM_RIGHTS control message, in tag order, one for each tag that is
// not kInvalid. Every message has a header, so an empty message is not end of stream.
//
// A tag byte holds the descriptor's kind in bits 0-3 and, for kHostIo only, its HostIoAccess
// in bits 4-5; every other bit is zero. A receiver rejects a tag with any other bit set.
#ifndef IMC_WIRE_FORMAT_H_
#define IMC_WIRE_FORMAT_H_

#include <stddef.h>
#include <stdint.h>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "imc/descriptor.h"

namespace imc {

// 2: tags carry a HostIo descriptor's access (version 1 had none, so every HostIo
// descriptor widened to the fd's open mode on receipt).
inline constexpr uint8_t kWireVersion = 2;

// The parts of a tag byte (see above).
inline constexpr uint8_t kTagKindMask = 0x0f;
inline constexpr int kTagAccessShift = 4;
inline constexpr uint8_t kTagAccessMask = 0x30;

// The most user bytes one message carries (NaCl's NACL_ABI_IMC_USER_BYTES_MAX).
inline constexpr size_t kMaxUserBytes = 128 * 1024;

enum class PacketKind : uint8_t {
  kMessage = 0,
  // Tells a connector its request was accepted when no message will say so: sent by Accept()
  // to a connector that waits for acceptance, and by an accepted connection closed before it
  // sent anything. Never delivered to users; it has no bytes and no descriptors.
  kAcceptAck = 1,
  // Only in a connection request, never on a connection: the header after the request byte
  // 'c' of an extended request (see bound_socket.h), with kFlagAwaitsAccept and
  // kFlagCarriesMessage. Then it describes the first message the request carries, if any.
  kConnectRequest = 2,
};

// Set on every message sent from the accepting end of a connection: tells the connector its
// request was accepted, at no cost (see kAcceptAck for when nothing else is sent).
inline constexpr uint8_t kFlagFromAcceptor = 0x1;
inline constexpr uint8_t kKnownFlags = kFlagFromAcceptor;
// Connection request flags (kConnectRequest headers only): the connector waits for the
// acceptance (Accept() acknowledges at once); the request carries the connection's first
// message (its bytes follow the header).
inline constexpr uint8_t kFlagAwaitsAccept = 0x2;
inline constexpr uint8_t kFlagCarriesMessage = 0x4;
inline constexpr uint8_t kKnownRequestFlags = kFlagAwaitsAccept | kFlagCarriesMessage;

struct WireHeader {
  uint8_t version;
  uint8_t packet_kind;
  uint8_t descriptor_count;
  uint8_t flags;  // kFlag* bits.
  uint32_t byte_count;
  uint8_t tags[kMaxDescriptors];
};
static_assert(sizeof(WireHeader) == 16, "the wire header is 16 bytes");

// What one tag says: a descriptor's kind and, for kHostIo, the access it grants. A bare
// kind converts to a tag that grants full access (which only HostIo tags carry).
struct WireTag {
  WireTag(DescriptorKind kind, HostIoAccess access = HostIoAccess::kReadWrite)  // NOLINT
      : kind(kind), access(access) {}

  DescriptorKind kind;
  HostIoAccess access;
};

// Returns the tag byte for `tag`: its kind, and its access if it is a kHostIo tag.
uint8_t EncodeWireTag(WireTag tag);

// Returns the header of a message with `byte_count` user bytes and these descriptors.
WireHeader MakeWireHeader(PacketKind kind, uint32_t byte_count,
                          absl::Span<const WireTag> descriptors);

// What a valid header says.
struct ParsedHeader {
  PacketKind packet_kind;
  uint8_t flags;
  size_t byte_count;
  size_t descriptor_count;
  DescriptorKind tags[kMaxDescriptors];
  // The access each kHostIo tag grants (as sent: not yet narrowed to the fd); kNone for
  // every other tag.
  HostIoAccess access[kMaxDescriptors];
  size_t fd_count;  // Tags that are not kInvalid.
};

// Checks a received header against the packet it came in: `packet_size` bytes in all
// (header included) and `fds_received` host fds. Returns EPROTO naming the first mismatch.
// Only kMessage and kAcceptAck headers pass (a kConnectRequest never travels on a connection).
absl::StatusOr<ParsedHeader> ParseWireHeader(const WireHeader& header, size_t packet_size,
                                             size_t fds_received);

// The same for the header of an extended connection request: `packet_size` counts from the
// header (the request byte not included), `fds_received` the fds after the connection's own.
// Only kConnectRequest headers with kKnownRequestFlags pass; one without kFlagCarriesMessage
// describes no bytes and no descriptors.
absl::StatusOr<ParsedHeader> ParseConnectRequestHeader(const WireHeader& header, size_t packet_size,
                                                       size_t fds_received);

}  // namespace imc

#endif  // IMC_WIRE_FORMAT_H_
