/*
 * The SDK's copy of the IMC wire header (imc/wire_format.h), for the direct data path: the
 * SDK sends and receives descriptor-free messages on the sockets the loader placed at their
 * descriptors' numbers (docs/performance.md). syscalls/sdk:imc_wire_test checks that these
 * values are imc's.
 */
#ifndef SYSCALLS_SDK_IMC_WIRE_H_
#define SYSCALLS_SDK_IMC_WIRE_H_

#include <stdint.h>

#define IMC_WIRE_VERSION 2
#define IMC_WIRE_KIND_MESSAGE 0
#define IMC_WIRE_KIND_ACCEPT_ACK 1
#define IMC_WIRE_KNOWN_FLAGS 0x1 /* kFlagFromAcceptor */
#define IMC_WIRE_MAX_DESCRIPTORS 8

struct ImcWireHeader {
  uint8_t version;
  uint8_t packet_kind;
  uint8_t descriptor_count;
  uint8_t flags;
  uint32_t byte_count;
  uint8_t tags[IMC_WIRE_MAX_DESCRIPTORS];
};

#endif /* SYSCALLS_SDK_IMC_WIRE_H_ */
