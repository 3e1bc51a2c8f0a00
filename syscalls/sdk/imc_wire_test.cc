// The SDK's copy of the wire header (imc_wire.h, C) has imc's layout and values: a module's
// direct messages are the packets imc sends and receives.
#include "syscalls/sdk/imc_wire.h"

#include <stddef.h>
#include <string.h>

#include "gtest/gtest.h"
#include "imc/wire_format.h"

namespace {

static_assert(IMC_WIRE_VERSION == imc::kWireVersion, "version");
static_assert(IMC_WIRE_KIND_MESSAGE == static_cast<int>(imc::PacketKind::kMessage), "kind");
static_assert(IMC_WIRE_KIND_ACCEPT_ACK == static_cast<int>(imc::PacketKind::kAcceptAck), "kind");
static_assert(IMC_WIRE_KNOWN_FLAGS == imc::kKnownFlags, "flags");
static_assert(IMC_WIRE_MAX_DESCRIPTORS == imc::kMaxDescriptors, "descriptors");
static_assert(sizeof(ImcWireHeader) == sizeof(imc::WireHeader), "size");
static_assert(offsetof(ImcWireHeader, byte_count) == offsetof(imc::WireHeader, byte_count),
              "byte_count");
static_assert(offsetof(ImcWireHeader, tags) == offsetof(imc::WireHeader, tags), "tags");

// Test that a header the SDK would build parses as imc's message of that many bytes.
TEST(ImcWireTest, SdkHeaderParsesAsAMessage) {
  ImcWireHeader sdk = {};
  sdk.version = IMC_WIRE_VERSION;
  sdk.packet_kind = IMC_WIRE_KIND_MESSAGE;
  sdk.byte_count = 64;
  imc::WireHeader header;
  static_assert(sizeof(header) == sizeof(sdk), "same size");
  memcpy(&header, &sdk, sizeof(header));
  absl::StatusOr<imc::ParsedHeader> parsed = imc::ParseWireHeader(header, sizeof(header) + 64, 0);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->packet_kind, imc::PacketKind::kMessage);
  EXPECT_EQ(parsed->byte_count, 64u);
  EXPECT_EQ(parsed->descriptor_count, 0u);
}

}  // namespace
