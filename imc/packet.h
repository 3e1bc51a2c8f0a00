// One SOCK_SEQPACKET packet with host fds: the transport under connect, accept and
// messages. Sends use MSG_NOSIGNAL, receives MSG_CMSG_CLOEXEC; nothing peeks.
#ifndef IMC_PACKET_H_
#define IMC_PACKET_H_

#include <stddef.h>
#include <sys/uio.h>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/unique_fd.h"
#include "imc/cancellation.h"

namespace imc {

struct ReceivedPacket {
  // The packet's full length (it may be longer than the buffers: see `truncated`).
  size_t size = 0;
  bool truncated = false;
  absl::InlinedVector<base::UniqueFd, 8> fds;
};

// Sends one packet of `data` with `fds` (borrowed). A closed peer is EPIPE, never SIGPIPE.
absl::Status SendPacket(int socket_fd, absl::Span<const iovec> data, absl::Span<const int> fds,
                        const WaitOptions& options);

// Receives one packet into `buffers`, with up to 8 fds (marked close-on-exec). A packet of
// 0 bytes is returned as such; use AtEndOfStream() to tell it from a closed peer. A packet
// whose control data is anything but one SCM_RIGHTS message of at most 8 fds (more fds,
// credentials or a pidfd that a holder of the socket asked for with SO_PASSCRED or
// SO_PASSPIDFD, truncated control data) is consumed and fails with EPROTO, every fd that came
// with it closed.
absl::StatusOr<ReceivedPacket> ReceivePacket(int socket_fd, absl::Span<const iovec> buffers,
                                             const WaitOptions& options);

// True when `packet` (just received from `socket_fd`) is the end of the stream rather than
// a packet of 0 bytes: no bytes, no fds, the peer is gone and nothing is queued.
bool AtEndOfStream(int socket_fd, const ReceivedPacket& packet);

}  // namespace imc

#endif  // IMC_PACKET_H_
