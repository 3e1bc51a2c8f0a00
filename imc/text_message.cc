#include "imc/text_message.h"

#include <sys/uio.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace imc {

absl::Status SendText(const MessageSocket& socket, absl::string_view text,
                      absl::Span<const OutgoingDescriptor> descriptors, const WaitOptions& wait) {
  iovec iov = {const_cast<char*>(text.data()), text.size()};
  OutgoingMessage message;
  message.data = absl::MakeConstSpan(&iov, text.empty() ? 0 : 1);
  message.descriptors = descriptors;
  return socket.Send(message, wait);
}

absl::StatusOr<TextMessage> ReceiveText(const MessageSocket& socket, size_t room,
                                        size_t max_descriptors, const WaitOptions& wait) {
  std::string buffer(room, '\0');
  iovec iov = {buffer.data(), buffer.size()};
  absl::StatusOr<ReceivedMessage> received =
      socket.Receive(absl::MakeConstSpan(&iov, room == 0 ? 0 : 1), max_descriptors, wait);
  if (!received.ok()) return received.status();
  buffer.resize(received->bytes);
  return TextMessage{std::move(buffer), *std::move(received)};
}

WaitOptions WithinSeconds(double seconds) {
  WaitOptions options;
  options.deadline = absl::Now() + absl::Seconds(seconds);
  return options;
}

WaitOptions Nonblocking() {
  WaitOptions options;
  options.nonblocking = true;
  return options;
}

}  // namespace imc
