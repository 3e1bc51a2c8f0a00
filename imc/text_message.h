// Test support: sending and receiving a message whose user bytes are one string.
#ifndef IMC_TEXT_MESSAGE_H_
#define IMC_TEXT_MESSAGE_H_

#include <stddef.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "imc/cancellation.h"
#include "imc/descriptor.h"
#include "imc/message_socket.h"

namespace imc {

// Sends `text` (no iovec at all when empty) with `descriptors`.
absl::Status SendText(const MessageSocket& socket, absl::string_view text,
                      absl::Span<const OutgoingDescriptor> descriptors = {},
                      const WaitOptions& wait = {});

struct TextMessage {
  std::string text;  // The bytes stored (at most the room given).
  ReceivedMessage message;
};

// Receives one message into a buffer of `room` bytes, keeping at most `max_descriptors`.
absl::StatusOr<TextMessage> ReceiveText(const MessageSocket& socket, size_t room = 4096,
                                        size_t max_descriptors = kMaxDescriptors,
                                        const WaitOptions& wait = {});

// Returns options whose deadline is `seconds` from now, so that a broken test fails with
// ETIMEDOUT instead of hanging.
WaitOptions WithinSeconds(double seconds);

// Returns options that never wait.
WaitOptions Nonblocking();

}  // namespace imc

#endif  // IMC_TEXT_MESSAGE_H_
