#include "imc/wire_format.h"

#include <errno.h>
#include <string.h>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/descriptor.h"

namespace imc {
namespace {

using ::base::HasErrno;
using ::testing::HasSubstr;

constexpr size_t kHeaderSize = sizeof(WireHeader);

// A header for a message of `bytes` user bytes with these descriptor kinds.
WireHeader Header(uint32_t bytes, std::initializer_list<WireTag> kinds = {}) {
  return MakeWireHeader(PacketKind::kMessage, bytes, kinds);
}

// Test that MakeWireHeader fills in version, kind, counts and one tag per descriptor, and
// leaves the flags and unused tags zero.
TEST(WireFormatTest, MakeWireHeaderFillsEveryField) {
  WireHeader header = Header(
      1234, {DescriptorKind::kSocketAddress, DescriptorKind::kInvalid, DescriptorKind::kHostIo});
  EXPECT_EQ(header.version, kWireVersion);
  EXPECT_EQ(header.packet_kind, static_cast<uint8_t>(PacketKind::kMessage));
  EXPECT_EQ(header.descriptor_count, 3);
  EXPECT_EQ(header.flags, 0);
  EXPECT_EQ(header.byte_count, 1234u);
  EXPECT_EQ(header.tags[0], static_cast<uint8_t>(DescriptorKind::kSocketAddress));
  EXPECT_EQ(header.tags[1], static_cast<uint8_t>(DescriptorKind::kInvalid));
  // A bare HostIo kind grants full access: kind 4, access 3 in bits 4-5.
  EXPECT_EQ(header.tags[2], 0x34);
  for (size_t i = 3; i < kMaxDescriptors; ++i) EXPECT_EQ(header.tags[i], 0) << i;
}

// Test that a header made by MakeWireHeader parses back to what it said.
TEST(WireFormatTest, MadeHeaderParsesBack) {
  WireHeader header = Header(10, {DescriptorKind::kSharedMemory, DescriptorKind::kInvalid,
                                  DescriptorKind::kDataOnlySocket});
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize + 10, 2);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->packet_kind, PacketKind::kMessage);
  EXPECT_EQ(parsed->byte_count, 10u);
  EXPECT_EQ(parsed->descriptor_count, 3u);
  EXPECT_EQ(parsed->fd_count, 2u);
  EXPECT_EQ(parsed->tags[0], DescriptorKind::kSharedMemory);
  EXPECT_EQ(parsed->tags[1], DescriptorKind::kInvalid);
  EXPECT_EQ(parsed->tags[2], DescriptorKind::kDataOnlySocket);
}

// Test that an empty message (no bytes, no descriptors) is a valid header.
TEST(WireFormatTest, EmptyMessageParses) {
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(Header(0), kHeaderSize, 0);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->byte_count, 0u);
  EXPECT_EQ(parsed->descriptor_count, 0u);
  EXPECT_EQ(parsed->fd_count, 0u);
}

// Test that the largest message, kMaxUserBytes and kMaxDescriptors, parses.
TEST(WireFormatTest, LargestMessageParses) {
  std::vector<WireTag> kinds(kMaxDescriptors, DescriptorKind::kHostIo);
  WireHeader header = MakeWireHeader(PacketKind::kMessage, kMaxUserBytes, kinds);
  absl::StatusOr<ParsedHeader> parsed =
      ParseWireHeader(header, kHeaderSize + kMaxUserBytes, kMaxDescriptors);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->descriptor_count, kMaxDescriptors);
  EXPECT_EQ(parsed->fd_count, kMaxDescriptors);
}

// Test that descriptors tagged kInvalid need no host fd.
TEST(WireFormatTest, InvalidMarkersCarryNoFd) {
  WireHeader header = Header(0, {DescriptorKind::kInvalid, DescriptorKind::kInvalid});
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize, 0);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->descriptor_count, 2u);
  EXPECT_EQ(parsed->fd_count, 0u);
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 1), HasErrno(EPROTO));
}

// Test that a packet shorter than the header is rejected (including a 0-byte packet).
TEST(WireFormatTest, ShortPacketIsRejected) {
  WireHeader header = Header(0);
  EXPECT_THAT(ParseWireHeader(header, 0, 0), HasErrno(EPROTO));
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize - 1, 0);
  EXPECT_THAT(parsed, HasErrno(EPROTO));
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("shorter than the header"));
}

// Test that a header with another version is rejected.
TEST(WireFormatTest, WrongVersionIsRejected) {
  for (uint8_t version : {0, kWireVersion + 1, 255}) {
    WireHeader header = Header(0);
    header.version = version;
    absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize, 0);
    EXPECT_THAT(parsed, HasErrno(EPROTO)) << int{version};
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("version"));
  }
}

// Test that an unknown packet kind is rejected.
TEST(WireFormatTest, UnknownPacketKindIsRejected) {
  WireHeader header = Header(0);
  header.packet_kind = static_cast<uint8_t>(PacketKind::kAcceptAck) + 1;
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 0), HasErrno(EPROTO));
}

// Test that unknown flag bits are rejected and the known one is parsed.
TEST(WireFormatTest, OnlyKnownFlagsAreAccepted) {
  WireHeader header = Header(0);
  header.flags = 0x2;
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 0), HasErrno(EPROTO));
  header.flags = kFlagFromAcceptor;
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize, 0);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->flags, kFlagFromAcceptor);
}

// Test that more than kMaxDescriptors descriptors are rejected.
TEST(WireFormatTest, TooManyDescriptorsAreRejected) {
  WireHeader header = Header(0);
  header.descriptor_count = kMaxDescriptors + 1;
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 0), HasErrno(EPROTO));
  header.descriptor_count = 255;
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 0), HasErrno(EPROTO));
}

// Test that a byte count above kMaxUserBytes is rejected even if the packet is that long.
TEST(WireFormatTest, TooManyBytesAreRejected) {
  WireHeader header = Header(kMaxUserBytes + 1);
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize + kMaxUserBytes + 1, 0), HasErrno(EPROTO));
}

// Test that a byte count that disagrees with the packet size is rejected, both ways.
TEST(WireFormatTest, ByteCountMustMatchPacket) {
  WireHeader header = Header(10);
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize + 9, 0), HasErrno(EPROTO));
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize + 11, 0), HasErrno(EPROTO));
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize, 0);
  EXPECT_THAT(parsed, HasErrno(EPROTO));
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("header says 10 bytes"));
}

// Test that a tag outside the known descriptor kinds is rejected.
TEST(WireFormatTest, UnknownTagIsRejected) {
  WireHeader header = Header(0, {DescriptorKind::kHostIo});
  header.tags[0] = static_cast<uint8_t>(DescriptorKind::kHostIo) + 1;
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize, 1);
  EXPECT_THAT(parsed, HasErrno(EPROTO));
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("unknown descriptor tag"));
  header.tags[0] = 255;
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 1), HasErrno(EPROTO));
}

// Test that a HostIo tag carries each access in bits 4-5 and parses back to it, and that
// other tags carry none whatever access their WireTag names.
TEST(WireFormatTest, HostIoAccessTravelsInTheTag) {
  const struct {
    HostIoAccess access;
    uint8_t byte;
  } kCases[] = {{HostIoAccess::kNone, 0x04},
                {HostIoAccess::kReadOnly, 0x14},
                {HostIoAccess::kWriteOnly, 0x24},
                {HostIoAccess::kReadWrite, 0x34}};
  for (const auto& c : kCases) {
    WireHeader header = Header(0, {{DescriptorKind::kHostIo, c.access},
                                   {DescriptorKind::kSharedMemory, c.access},
                                   {DescriptorKind::kInvalid, c.access}});
    EXPECT_EQ(header.tags[0], c.byte) << HostIoAccessName(c.access);
    EXPECT_EQ(header.tags[1], static_cast<uint8_t>(DescriptorKind::kSharedMemory));
    EXPECT_EQ(header.tags[2], 0);
    absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize, 2);
    ASSERT_OK(parsed);
    EXPECT_EQ(parsed->tags[0], DescriptorKind::kHostIo);
    EXPECT_EQ(parsed->access[0], c.access) << HostIoAccessName(c.access);
    EXPECT_EQ(parsed->tags[1], DescriptorKind::kSharedMemory);
    EXPECT_EQ(parsed->access[1], HostIoAccess::kNone);
    EXPECT_EQ(parsed->access[2], HostIoAccess::kNone);
  }
}

// Test that access bits on a tag other than HostIo are rejected: only HostIo grants access.
TEST(WireFormatTest, AccessBitsOnOtherTagsAreRejected) {
  for (DescriptorKind kind : {DescriptorKind::kSocketAddress, DescriptorKind::kDataOnlySocket,
                              DescriptorKind::kSharedMemory}) {
    for (uint8_t access : {0x10, 0x20, 0x30}) {
      WireHeader header = Header(0, {kind});
      header.tags[0] |= access;
      absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize, 1);
      EXPECT_THAT(parsed, HasErrno(EPROTO)) << DescriptorKindName(kind) << " " << int{access};
      EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("access bits"));
    }
  }
  // An invalid marker carries no fd, so its access bits would be all that is wrong.
  WireHeader header = Header(0, {DescriptorKind::kInvalid});
  header.tags[0] = 0x10;
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 0), HasErrno(EPROTO));
}

// Test that the two high bits of a tag are reserved: set, the tag is unknown, even on a
// HostIo tag with valid access.
TEST(WireFormatTest, ReservedTagBitsAreRejected) {
  for (uint8_t reserved : {0x40, 0x80, 0xc0}) {
    WireHeader header = Header(0, {{DescriptorKind::kHostIo, HostIoAccess::kReadOnly}});
    header.tags[0] |= reserved;
    absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize, 1);
    EXPECT_THAT(parsed, HasErrno(EPROTO)) << int{reserved};
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("unknown descriptor tag"));
  }
  // An unknown kind in the low bits stays unknown with access bits beside it.
  WireHeader header = Header(0, {DescriptorKind::kHostIo});
  header.tags[0] = 0x35;
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 1), HasErrno(EPROTO));
}

// Test that a version 1 header (whose HostIo tags had no access) is refused, not read as
// granting nothing or everything.
TEST(WireFormatTest, VersionOneIsRefused) {
  WireHeader header = Header(0, {DescriptorKind::kHostIo});
  header.version = 1;
  header.tags[0] = static_cast<uint8_t>(DescriptorKind::kHostIo);
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 1), HasErrno(EPROTO));
}

// Test that a tag set beyond the descriptor count is rejected.
TEST(WireFormatTest, TagBeyondCountIsRejected) {
  WireHeader header = Header(0, {DescriptorKind::kHostIo});
  header.tags[1] = static_cast<uint8_t>(DescriptorKind::kHostIo);
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 1), HasErrno(EPROTO));
}

// Test that the number of fds that arrived must equal the non-invalid tags, both ways.
TEST(WireFormatTest, FdCountMustMatchTags) {
  WireHeader header = Header(0, {DescriptorKind::kHostIo, DescriptorKind::kSharedMemory});
  EXPECT_OK(ParseWireHeader(header, kHeaderSize, 2));
  EXPECT_THAT(ParseWireHeader(header, kHeaderSize, 1), HasErrno(EPROTO));
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, kHeaderSize, 3);
  EXPECT_THAT(parsed, HasErrno(EPROTO));
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("3 arrived"));
  EXPECT_THAT(ParseWireHeader(Header(0), kHeaderSize, 1), HasErrno(EPROTO));
}

// Test that an accept acknowledgement parses as one and must be empty.
TEST(WireFormatTest, AcceptAckMustBeEmpty) {
  WireHeader ack = MakeWireHeader(PacketKind::kAcceptAck, 0, {});
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(ack, kHeaderSize, 0);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->packet_kind, PacketKind::kAcceptAck);

  WireHeader with_bytes = MakeWireHeader(PacketKind::kAcceptAck, 1, {});
  EXPECT_THAT(ParseWireHeader(with_bytes, kHeaderSize + 1, 0), HasErrno(EPROTO));
  const WireTag invalid[] = {DescriptorKind::kInvalid};
  WireHeader with_descriptor = MakeWireHeader(PacketKind::kAcceptAck, 0, invalid);
  EXPECT_THAT(ParseWireHeader(with_descriptor, kHeaderSize, 0), HasErrno(EPROTO));
}

// Test that a connection request header never passes as a message header on a connection,
// nor do the request flags, and that a message header never passes as a request header.
TEST(WireFormatTest, RequestAndMessageHeadersDoNotMix) {
  WireHeader request = MakeWireHeader(PacketKind::kConnectRequest, 0, {});
  EXPECT_THAT(ParseWireHeader(request, sizeof(request), 0), HasErrno(EPROTO));
  EXPECT_OK(ParseConnectRequestHeader(request, sizeof(request), 0));
  WireHeader message = MakeWireHeader(PacketKind::kMessage, 0, {});
  for (uint8_t flag : {kFlagAwaitsAccept, kFlagCarriesMessage}) {
    message.flags = flag;
    EXPECT_THAT(ParseWireHeader(message, sizeof(message), 0), HasErrno(EPROTO));
  }
  message.flags = 0;
  EXPECT_THAT(ParseConnectRequestHeader(message, sizeof(message), 0), HasErrno(EPROTO));
  request.flags = kFlagFromAcceptor;
  EXPECT_THAT(ParseConnectRequestHeader(request, sizeof(request), 0), HasErrno(EPROTO));
}

// Test that a request header parses with its flags and the first message it describes, and
// that one without kFlagCarriesMessage describes nothing.
TEST(WireFormatTest, RequestHeaderParses) {
  WireHeader request = MakeWireHeader(PacketKind::kConnectRequest, 3, {});
  request.flags = kFlagAwaitsAccept | kFlagCarriesMessage;
  absl::StatusOr<ParsedHeader> parsed = ParseConnectRequestHeader(request, sizeof(request) + 3, 0);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->packet_kind, PacketKind::kConnectRequest);
  EXPECT_EQ(parsed->flags, kFlagAwaitsAccept | kFlagCarriesMessage);
  EXPECT_EQ(parsed->byte_count, 3u);
  request.flags = kFlagAwaitsAccept;
  EXPECT_THAT(ParseConnectRequestHeader(request, sizeof(request) + 3, 0), HasErrno(EPROTO));
}

}  // namespace
}  // namespace imc
