// Capability addressing: a BoundSocket and its SocketAddress are the two ends of one
// socketpair. Connect() sends a fresh socketpair end, with the byte 'c', through the address;
// Accept() receives it. Nothing is bound in any namespace: holding a SocketAddress is the only
// way to connect.
//
// The request is one packet on the address carrying exactly one fd, the connection's end:
// either the byte 'c' alone (a plain request), or 'c' and then a 16-byte WireHeader of kind
// kConnectRequest (an extended request, see wire_format.h) whose flags say whether the
// connector waits for acceptance (kFlagAwaitsAccept) and whether the request carries the
// connection's first message (kFlagCarriesMessage: then the header describes it as a message
// header would, its bytes follow, and it has no descriptors). Accept() keeps a first message
// in the accepted socket for its first Receive(): the connection costs the acceptor one
// recvmsg fewer, and the connector one sendmsg fewer (ConnectAndSend()).
//
// Pending connections: a request waits in the bound socket's queue, charged to the address
// socket's send buffer (PendingRequestBytes() each: 768 here), and costs the kernel far more
// than that (its socketpair, the fd in flight: about 8 KiB in all). MakeBoundSocket() sizes
// the buffer to hold BoundSocketOptions::max_pending requests; beyond them Connect() waits
// (or fails EAGAIN without waiting), and a waiting Connect() goes on once the acceptor has
// drained the queue to a quarter of the cap (when the kernel reports the socket writable).
// A buffer beyond net.core.wmem_max (4 MiB here: 2 MiB of it per SO_SNDBUF, about 5,400
// requests) needs CAP_NET_ADMIN (SO_SNDBUFFORCE); without it the cap is clamped there. The
// kernel also bounds the fds in flight per user by RLIMIT_NOFILE unless the sender has
// CAP_SYS_RESOURCE.
#ifndef IMC_BOUND_SOCKET_H_
#define IMC_BOUND_SOCKET_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "imc/cancellation.h"
#include "imc/message_socket.h"

namespace imc {

struct BoundSocketOptions {
  // How many connection requests may wait unaccepted. At least a handful (the kernel's
  // smallest send buffer holds 6); at most kMaxPendingLimit.
  int max_pending = 4096;
};

// The largest max_pending MakeBoundSocket() takes (the send buffer is an int).
inline constexpr int kMaxPendingLimit = 1'000'000;

// The most user bytes a first message carried in a connection request may have. An accepted
// socket keeps its first message in memory until received: no more than the kernel would have
// queued for the same message (an skb of this size takes about twice as much). A request with
// a first message takes more of the address's send buffer than PendingRequestBytes(), so fewer
// of those than max_pending may wait.
inline constexpr size_t kMaxFirstMessageBytes = 1024;

// The bytes of send buffer one pending connection request takes, measured once per process
// (a request sent on a scratch socketpair). 768 on Linux 6.18 / x86-64.
int PendingRequestBytes();

struct ConnectOptions {
  // Return only once an acceptor took the request (ECONNREFUSED if the bound socket closed
  // first). Without it, Connect() returns once the request is queued, and a request dropped
  // unaccepted shows up as ECONNREFUSED on the connection's first Receive().
  bool wait_for_accept = false;
  // Applies to queueing the request and, with wait_for_accept, to the acceptance.
  WaitOptions wait;
};

class SocketAddress {
 public:
  // Adopts `fd`, which must already be an IMC socket (as Receive() checks for
  // kSocketAddress descriptors).
  static SocketAddress Adopt(base::UniqueFd fd) { return SocketAddress(std::move(fd)); }

  // Connects to the bound socket. Errors (errno): ECONNREFUSED the bound socket is closed (or
  // closed before accepting, with wait_for_accept), EAGAIN / ETIMEDOUT / ECANCELED from the
  // options, or the socketpair error.
  absl::StatusOr<ConnectedSocket> Connect(const ConnectOptions& options = {}) const;

  // Connect() and Send(`first`), in one packet when `first` has no descriptors, at most
  // kMaxFirstMessageBytes bytes and at most 16 iovecs (otherwise Connect() then Send()). The
  // acceptor receives `first` as the connection's first message either way. A request dropped
  // unaccepted drops `first` with it (ECONNREFUSED on the first Receive(), as for Connect()).
  // Errors: those of Connect() and of Send(); `options.wait` applies to both.
  absl::StatusOr<ConnectedSocket> ConnectAndSend(const OutgoingMessage& first,
                                                 const ConnectOptions& options = {}) const;

  // Returns another SocketAddress for the same bound socket (a dup of the same fd).
  absl::StatusOr<SocketAddress> Duplicate() const;

  int fd() const { return fd_.get(); }

 private:
  explicit SocketAddress(base::UniqueFd fd) : fd_(std::move(fd)) {}
  // Connects with a plain request, or an extended one for `options.wait_for_accept` or a
  // `first` message (of `first_bytes` bytes, which fits the request).
  absl::StatusOr<ConnectedSocket> ConnectWith(const OutgoingMessage* first, size_t first_bytes,
                                              const ConnectOptions& options) const;
  base::UniqueFd fd_;
};

class BoundSocket {
 public:
  // Takes one connection request. A connector that waits for acceptance is told at once; the
  // others learn it from the connection's first message (or, if it closes without one, from
  // an acknowledgement it sends then), so accepting them costs nothing extra. A first message
  // that came with the request waits in the connection for its first Receive() (see
  // MessageSocket::HasBufferedMessage()). Errors (errno):
  // EPIPE every copy of the address is closed (in any process, or in flight) and no request
  // is queued, EPROTO a malformed request (consumed, its fds closed), EAGAIN / ETIMEDOUT /
  // ECANCELED from `wait`.
  absl::StatusOr<ConnectedSocket> Accept(const WaitOptions& wait = {}) const;

  int fd() const { return fd_.get(); }

 private:
  friend absl::StatusOr<std::pair<BoundSocket, SocketAddress>> MakeBoundSocket(
      const BoundSocketOptions& options);
  explicit BoundSocket(base::UniqueFd fd) : fd_(std::move(fd)) {}
  base::UniqueFd fd_;
};

// Returns a new bound socket and its (first) address, which holds up to
// `options.max_pending` requests. Errors: EINVAL for max_pending outside 1..kMaxPendingLimit,
// the socketpair or setsockopt error.
absl::StatusOr<std::pair<BoundSocket, SocketAddress>> MakeBoundSocket(
    const BoundSocketOptions& options = {});

}  // namespace imc

#endif  // IMC_BOUND_SOCKET_H_
