#include "imc/wire_format.h"

#include <errno.h>
#include <string.h>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"

namespace imc {
namespace {

absl::Status Malformed(absl::string_view why) {
  return base::ErrnoStatus(EPROTO, absl::StrCat("malformed IMC message: ", why));
}

}  // namespace

uint8_t EncodeWireTag(WireTag tag) {
  uint8_t byte = static_cast<uint8_t>(tag.kind) & kTagKindMask;
  if (tag.kind == DescriptorKind::kHostIo) {
    byte |=
        static_cast<uint8_t>(static_cast<uint8_t>(tag.access) << kTagAccessShift) & kTagAccessMask;
  }
  return byte;
}

WireHeader MakeWireHeader(PacketKind kind, uint32_t byte_count,
                          absl::Span<const WireTag> descriptors) {
  WireHeader header;
  memset(&header, 0, sizeof(header));
  header.version = kWireVersion;
  header.packet_kind = static_cast<uint8_t>(kind);
  header.descriptor_count = static_cast<uint8_t>(descriptors.size());
  header.byte_count = byte_count;
  for (size_t i = 0; i < descriptors.size() && i < kMaxDescriptors; ++i) {
    header.tags[i] = EncodeWireTag(descriptors[i]);
  }
  return header;
}

namespace {

// ParseWireHeader and ParseConnectRequestHeader: `request` selects which kinds and flags pass.
absl::StatusOr<ParsedHeader> ParseHeader(const WireHeader& header, size_t packet_size,
                                         size_t fds_received, bool request) {
  if (packet_size < sizeof(WireHeader)) {
    return Malformed(absl::StrCat(packet_size, " bytes is shorter than the header"));
  }
  if (header.version != kWireVersion) {
    return Malformed(absl::StrCat("version ", header.version, ", expected ", kWireVersion));
  }
  const bool kind_ok = request
                           ? header.packet_kind == static_cast<uint8_t>(PacketKind::kConnectRequest)
                           : header.packet_kind <= static_cast<uint8_t>(PacketKind::kAcceptAck);
  if (!kind_ok) {
    return Malformed(absl::StrCat(request ? "not a connection request: " : "", "packet kind ",
                                  header.packet_kind));
  }
  if ((header.flags & ~(request ? kKnownRequestFlags : kKnownFlags)) != 0) {
    return Malformed(absl::StrCat("unknown flags 0x", absl::Hex(header.flags)));
  }
  if (header.descriptor_count > kMaxDescriptors) {
    return Malformed(
        absl::StrCat(header.descriptor_count, " descriptors, at most ", kMaxDescriptors));
  }
  if (header.byte_count > kMaxUserBytes) {
    return Malformed(absl::StrCat(header.byte_count, " user bytes, at most ", kMaxUserBytes));
  }
  if (header.byte_count != packet_size - sizeof(WireHeader)) {
    return Malformed(absl::StrCat("header says ", header.byte_count, " bytes, packet has ",
                                  packet_size - sizeof(WireHeader)));
  }
  ParsedHeader parsed;
  parsed.packet_kind = static_cast<PacketKind>(header.packet_kind);
  parsed.flags = header.flags;
  parsed.byte_count = header.byte_count;
  parsed.descriptor_count = header.descriptor_count;
  parsed.fd_count = 0;
  for (size_t i = 0; i < kMaxDescriptors; ++i) {
    if (i >= parsed.descriptor_count) {
      if (header.tags[i] != 0) return Malformed("tag set beyond the descriptor count");
      parsed.tags[i] = DescriptorKind::kInvalid;
      parsed.access[i] = HostIoAccess::kNone;
      continue;
    }
    const uint8_t tag = header.tags[i];
    const uint8_t kind = tag & kTagKindMask;
    const uint8_t access = (tag & kTagAccessMask) >> kTagAccessShift;
    if ((tag & ~(kTagKindMask | kTagAccessMask)) != 0 || !IsKnownDescriptorKind(kind)) {
      return Malformed(absl::StrCat("unknown descriptor tag 0x", absl::Hex(tag)));
    }
    parsed.tags[i] = static_cast<DescriptorKind>(kind);
    if (parsed.tags[i] != DescriptorKind::kHostIo && access != 0) {
      return Malformed(absl::StrCat("access bits on a ", DescriptorKindName(parsed.tags[i]),
                                    " tag 0x", absl::Hex(tag)));
    }
    // Two bits hold every HostIoAccess value; kNone is a HostIo that grants no I/O.
    parsed.access[i] = static_cast<HostIoAccess>(access);
    if (parsed.tags[i] != DescriptorKind::kInvalid) ++parsed.fd_count;
  }
  if (parsed.fd_count != fds_received) {
    return Malformed(
        absl::StrCat("header names ", parsed.fd_count, " host fds, ", fds_received, " arrived"));
  }
  if (parsed.packet_kind == PacketKind::kAcceptAck &&
      (parsed.byte_count != 0 || parsed.descriptor_count != 0)) {
    return Malformed("an accept acknowledgement carries bytes or descriptors");
  }
  if (request && (parsed.flags & kFlagCarriesMessage) == 0 &&
      (parsed.byte_count != 0 || parsed.descriptor_count != 0)) {
    return Malformed("a connection request without a message describes bytes or descriptors");
  }
  return parsed;
}

}  // namespace

absl::StatusOr<ParsedHeader> ParseWireHeader(const WireHeader& header, size_t packet_size,
                                             size_t fds_received) {
  return ParseHeader(header, packet_size, fds_received, /*request=*/false);
}

absl::StatusOr<ParsedHeader> ParseConnectRequestHeader(const WireHeader& header, size_t packet_size,
                                                       size_t fds_received) {
  return ParseHeader(header, packet_size, fds_received, /*request=*/true);
}

}  // namespace imc
