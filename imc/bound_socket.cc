#include "imc/bound_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <climits>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "imc/packet.h"
#include "imc/wire_format.h"

namespace imc {
namespace {

constexpr char kConnectRequest = 'c';

// A connector that waits for acceptance marks its request's socket with this SO_PRIORITY
// (which means nothing else for AF_UNIX sockets, and which any process may set), so that
// Accept() learns it with the one getsockopt it makes anyway.
constexpr int kAwaitAcceptPriority = 6;

absl::Status MalformedRequest(absl::string_view why) {
  return base::ErrnoStatus(EPROTO, absl::StrCat("malformed connection request: ", why));
}

}  // namespace

absl::StatusOr<std::pair<BoundSocket, SocketAddress>> MakeBoundSocket() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return base::ErrnoStatus(errno, "socketpair");
  }
  BoundSocket bound{base::UniqueFd(fds[0])};
  SocketAddress address = SocketAddress::Adopt(base::UniqueFd(fds[1]));
  int buffer = kPendingRequestBufferBytes;
  if (setsockopt(address.fd(), SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof(buffer)) != 0) {
    buffer = INT_MAX / 2;  // The kernel clamps it to net.core.wmem_max.
    if (setsockopt(address.fd(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer)) != 0) {
      return base::ErrnoStatus(errno, "setsockopt(SO_SNDBUF)");
    }
  }
  return std::make_pair(std::move(bound), std::move(address));
}

absl::StatusOr<ConnectedSocket> SocketAddress::Connect(const ConnectOptions& options) const {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return base::ErrnoStatus(errno, "socketpair");
  }
  ConnectedSocket connection(base::UniqueFd(fds[0]), ConnectedSocket::Role::kConnecting);
  base::UniqueFd request_end(fds[1]);
  if (options.wait_for_accept) {
    const int priority = kAwaitAcceptPriority;
    if (setsockopt(request_end.get(), SOL_SOCKET, SO_PRIORITY, &priority, sizeof(priority)) != 0) {
      return base::ErrnoStatus(errno, "setsockopt(SO_PRIORITY)");
    }
  }
  const char request = kConnectRequest;
  iovec iov = {const_cast<char*>(&request), 1};
  const int request_fd = request_end.get();
  absl::Status sent = SendPacket(fd_.get(), {&iov, 1}, {&request_fd, 1}, options.wait);
  if (base::ErrnoOf(sent) == EPIPE) {
    return base::ErrnoStatus(ECONNREFUSED, "connect: the bound socket is closed");
  }
  RETURN_IF_ERROR(sent);
  request_end.reset();  // The request holds it now; the acceptor gets it.
  if (options.wait_for_accept) RETURN_IF_ERROR(connection.AwaitAccept(options.wait));
  return connection;
}

absl::StatusOr<SocketAddress> SocketAddress::Duplicate() const {
  int fd = fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return base::ErrnoStatus(errno, "dup SocketAddress");
  return SocketAddress(base::UniqueFd(fd));
}

absl::StatusOr<ConnectedSocket> BoundSocket::Accept(const WaitOptions& wait) const {
  char request[2];
  iovec iov = {request, sizeof(request)};
  ASSIGN_OR_RETURN(ReceivedPacket packet, ReceivePacket(fd_.get(), {&iov, 1}, wait));
  if (AtEndOfStream(fd_.get(), packet)) {
    return base::ErrnoStatus(EPIPE, "accept: every SocketAddress of this bound socket is closed");
  }
  // Any fds that came with a bad request are closed with `packet`.
  if (packet.control_truncated) return MalformedRequest("more than 8 fds");
  if (packet.size != 1) return MalformedRequest(absl::StrCat(packet.size, " bytes, expected 1"));
  if (request[0] != kConnectRequest) return MalformedRequest("wrong request byte");
  if (packet.fds.size() != 1) {
    return MalformedRequest(absl::StrCat(packet.fds.size(), " fds, expected 1"));
  }
  // One syscall both checks that the fd is a socket and reads whether the connector waits
  // for acceptance. Its SEQPACKET type is checked by use: anything else fails its first
  // message with an error.
  int priority = 0;
  socklen_t length = sizeof(priority);
  if (getsockopt(packet.fds[0].get(), SOL_SOCKET, SO_PRIORITY, &priority, &length) != 0) {
    return MalformedRequest("its fd is not a socket");
  }
  ConnectedSocket connection(std::move(packet.fds[0]), ConnectedSocket::Role::kAccepted);
  // A waiting connector hears now; the others learn it from the first message, or from the
  // acknowledgement the connection sends if it closes without one.
  if (priority == kAwaitAcceptPriority) connection.SendAcceptAck();
  return connection;
}

}  // namespace imc
