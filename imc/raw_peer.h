// Test support: a peer that writes packets without any of imc's checks, to feed receivers malformed
// traffic (bad headers, too many fds, wrong request bytes).
#ifndef IMC_RAW_PEER_H_
#define IMC_RAW_PEER_H_

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/unique_fd.h"
#include "imc/message_socket.h"
#include "imc/wire_format.h"

namespace imc {

// Sends one packet of `bytes` with `fds` (any number the kernel takes, borrowed) in one SCM_RIGHTS
// control message, with MSG_NOSIGNAL. Returns the sendmsg errno.
absl::Status SendRawPacket(int socket_fd, absl::string_view bytes, absl::Span<const int> fds);

// Sends `header` followed by `payload` as one packet, with `fds`.
absl::Status SendRawMessage(int socket_fd, const WireHeader& header, absl::string_view payload,
                            absl::Span<const int> fds);

// Returns `count` fresh pipe read ends (the write ends are closed), to use as fds that are not
// sockets. Empty on failure.
std::vector<base::UniqueFd> MakePipeEnds(int count);

// Returns the fd numbers of `fds`.
std::vector<int> RawFds(const std::vector<base::UniqueFd>& fds);

// Returns two ConnectedSockets made from a host socketpair (as an embedder's -i channel).
absl::StatusOr<std::pair<ConnectedSocket, ConnectedSocket>> MakeConnectedPair();

}  // namespace imc

#endif  // IMC_RAW_PEER_H_
