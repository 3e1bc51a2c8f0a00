// What imc_bench's rows share: both ends of an IMC connection made as an embedder makes them,
// and the legacy side's tools (raw sendmsg/recvmsg with SCM_RIGHTS, SOCK_SEQPACKET sockets
// listening at abstract names).
#ifndef TOOLS_BENCH_IMC_BENCH_SOCKETS_H_
#define TOOLS_BENCH_IMC_BENCH_SOCKETS_H_

#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/unique_fd.h"
#include "imc/imc.h"

namespace imc_bench {

// The "small message" of connect_accept and msg_rtt_64B, and the payload of the descriptor rows.
inline constexpr size_t kSmallMessageBytes = 64;

// Returns the errno of the call `what` as a status.
absl::Status Errno(const char* what);

// Returns an internal error: `what` was not as expected.
absl::Status Unexpected(const char* what);

// Returns a message of `iovecs` data buffers at `data` and `descriptors`.
imc::OutgoingMessage Message(const iovec* data, size_t iovecs,
                             absl::Span<const imc::OutgoingDescriptor> descriptors = {});

// Returns both ends of a raw SOCK_SEQPACKET socketpair.
absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> RawSocketPair();

// In a forked child: closes every fd except those in `keep`.
void CloseFdsExcept(std::vector<int> keep);

// Both ends of one IMC connection in this process, made the way an embedder makes them
// (MakeBoundSocket, Connect, Accept), with the accept acknowledgement already consumed so that no
// timed Receive() pays for it.
struct Connection {
  imc::ConnectedSocket connector;
  imc::ConnectedSocket acceptor;
};

absl::StatusOr<Connection> MakeConnection();

// Sends `size` bytes and `fds` (borrowed; none: no control message) in one packet.
absl::Status RawSend(int socket_fd, const void* data, size_t size, absl::Span<const int> fds);

// One received packet: its byte count and the fds it carried (owned by the caller).
struct RawPacket {
  size_t bytes = 0;
  size_t fd_count = 0;
  int fds[imc::kMaxDescriptors];

  void CloseFds() const;
};

// Receives one packet of up to `size` bytes with room for exactly `max_fds` fds (none: no control
// buffer), marked close-on-exec as imc marks them. 0 bytes and no fds: end of stream.
absl::StatusOr<RawPacket> RawReceive(int socket_fd, void* buffer, size_t size, size_t max_fds);

// An abstract-namespace AF_UNIX name, unique to this process.
class AbstractName {
 public:
  AbstractName();

  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t length() const { return length_; }

 private:
  sockaddr_un address_ = {};
  socklen_t length_ = 0;
};

// Returns a SOCK_SEQPACKET socket bound to `name` and listening with `backlog` (the kernel caps it
// at net.core.somaxconn).
absl::StatusOr<base::UniqueFd> ListenAt(const AbstractName& name, int backlog);

// Returns a new SOCK_SEQPACKET socket connected to `name` (`flags`: SOCK_NONBLOCK or 0).
absl::StatusOr<base::UniqueFd> ConnectTo(const AbstractName& name, int flags);

}  // namespace imc_bench

#endif  // TOOLS_BENCH_IMC_BENCH_SOCKETS_H_
