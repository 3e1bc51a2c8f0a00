#include "imc/bound_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "imc/descriptor.h"
#include "imc/packet.h"
#include "imc/wire_format.h"

namespace imc {
namespace {

constexpr char kConnectRequest = 'c';

// The request byte and the WireHeader of an extended request.
constexpr size_t kExtendedRequestBytes = 1 + sizeof(WireHeader);

// The most iovecs of a first message that rides in the request.
constexpr size_t kMaxFirstMessageIovecs = 16;

absl::Status MalformedRequest(absl::string_view why) {
  return base::ErrnoStatus(EPROTO, absl::StrCat("malformed connection request: ", why));
}

}  // namespace

int PendingRequestBytes() {
  // A request is one skb of one byte with one fd; the kernel charges its truesize to the
  // sender's send buffer, which SIOCOUTQ reports for AF_UNIX sockets.
  static const int bytes = [] {
    constexpr int kFallback = 1024;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return kFallback;
    base::UniqueFd receiver(pair[0]);
    base::UniqueFd sender(pair[1]);
    const char request = kConnectRequest;
    iovec iov = {const_cast<char*>(&request), 1};
    const int fd = receiver.get();
    int queued = 0;
    if (!SendPacket(sender.get(), {&iov, 1}, {&fd, 1}, {}).ok() ||
        ioctl(sender.get(), SIOCOUTQ, &queued) != 0 || queued <= 0) {
      return kFallback;
    }
    return queued;
  }();
  return bytes;
}

absl::StatusOr<std::pair<BoundSocket, SocketAddress>> MakeBoundSocket(
    const BoundSocketOptions& options) {
  if (options.max_pending < 1 || options.max_pending > kMaxPendingLimit) {
    return base::ErrnoStatus(EINVAL, absl::StrCat("max_pending ", options.max_pending,
                                                  " is outside 1..", kMaxPendingLimit));
  }
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return base::ErrnoStatus(errno, "socketpair");
  }
  BoundSocket bound{base::UniqueFd(fds[0])};
  SocketAddress address = SocketAddress::Adopt(base::UniqueFd(fds[1]));
  // A send goes ahead while the queued requests take less than the buffer, and the kernel
  // doubles what it is asked for: exactly max_pending requests fit in max_pending * bytes
  // (above the kernel's minimum buffer). The product fits an int: 1e6 * ~1 KiB.
  const int64_t wanted = int64_t{options.max_pending} * PendingRequestBytes();
  int buffer = static_cast<int>((wanted + 1) / 2);
  if (setsockopt(address.fd(), SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof(buffer)) != 0 &&
      setsockopt(address.fd(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer)) != 0) {
    // Without CAP_NET_ADMIN the kernel clamps SO_SNDBUF to net.core.wmem_max.
    return base::ErrnoStatus(errno, "setsockopt(SO_SNDBUF)");
  }
  return std::make_pair(std::move(bound), std::move(address));
}

absl::StatusOr<ConnectedSocket> SocketAddress::Connect(const ConnectOptions& options) const {
  return ConnectWith(nullptr, 0, options);
}

absl::StatusOr<ConnectedSocket> SocketAddress::ConnectAndSend(const OutgoingMessage& first,
                                                              const ConnectOptions& options) const {
  size_t total = 0;
  bool fits = first.descriptors.empty() && first.data.size() <= kMaxFirstMessageIovecs;
  for (size_t i = 0; fits && i < first.data.size(); ++i) {
    total += first.data[i].iov_len;
    fits = total <= kMaxFirstMessageBytes;
  }
  if (fits) return ConnectWith(&first, total, options);
  ASSIGN_OR_RETURN(ConnectedSocket connection, ConnectWith(nullptr, 0, options));
  RETURN_IF_ERROR(connection.Send(first, options.wait));
  return connection;
}

absl::StatusOr<ConnectedSocket> SocketAddress::ConnectWith(const OutgoingMessage* first,
                                                           size_t first_bytes,
                                                           const ConnectOptions& options) const {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return base::ErrnoStatus(errno, "socketpair");
  }
  ConnectedSocket connection(base::UniqueFd(fds[0]), ConnectedSocket::Role::kConnecting);
  base::UniqueFd request_end(fds[1]);
  // A plain request is the byte 'c' alone; anything more needs the extended form.
  char request[kExtendedRequestBytes];
  request[0] = kConnectRequest;
  absl::InlinedVector<iovec, 1 + kMaxFirstMessageIovecs> iov;
  if (first == nullptr && !options.wait_for_accept) {
    iov.push_back({request, 1});
  } else {
    WireHeader header =
        MakeWireHeader(PacketKind::kConnectRequest, static_cast<uint32_t>(first_bytes), {});
    header.flags = static_cast<uint8_t>((options.wait_for_accept ? kFlagAwaitsAccept : 0) |
                                        (first != nullptr ? kFlagCarriesMessage : 0));
    memcpy(request + 1, &header, sizeof(header));
    iov.push_back({request, sizeof(request)});
    if (first != nullptr) iov.insert(iov.end(), first->data.begin(), first->data.end());
  }
  const int request_fd = request_end.get();
  absl::Status sent = SendPacket(fd_.get(), iov, {&request_fd, 1}, options.wait);
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
  // The request byte, an extended request's header and the most a first message may have: a
  // longer packet arrives truncated and is refused.
  char request[kExtendedRequestBytes];
  char first[kMaxFirstMessageBytes];
  iovec iov[2] = {{request, sizeof(request)}, {first, sizeof(first)}};
  ASSIGN_OR_RETURN(ReceivedPacket packet, ReceivePacket(fd_.get(), iov, wait));
  if (AtEndOfStream(fd_.get(), packet)) {
    return base::ErrnoStatus(EPIPE, "accept: every SocketAddress of this bound socket is closed");
  }
  // Any fds that came with a bad request are closed with `packet`.
  if (packet.size == 0) return MalformedRequest("0 bytes");
  if (packet.truncated) {
    return MalformedRequest(absl::StrCat(packet.size, " bytes, at most ",
                                         kExtendedRequestBytes + kMaxFirstMessageBytes));
  }
  if (request[0] != kConnectRequest) return MalformedRequest("wrong request byte");
  if (packet.fds.size() != 1) {
    return MalformedRequest(absl::StrCat(packet.fds.size(), " fds, expected 1"));
  }
  uint8_t flags = 0;
  size_t first_bytes = 0;
  if (packet.size != 1) {
    if (packet.size < kExtendedRequestBytes) {
      return MalformedRequest(
          absl::StrCat(packet.size, " bytes, expected 1 or at least ", kExtendedRequestBytes));
    }
    WireHeader header;
    memcpy(&header, request + 1, sizeof(header));
    // The connection's own fd is not the first message's.
    absl::StatusOr<ParsedHeader> parsed =
        ParseConnectRequestHeader(header, packet.size - 1, packet.fds.size() - 1);
    if (!parsed.ok()) {
      return MalformedRequest(absl::StrCat(packet.size, " bytes: ", parsed.status().message()));
    }
    if (parsed->descriptor_count != 0) {
      return MalformedRequest("a first message with descriptors");
    }
    flags = parsed->flags;
    first_bytes = parsed->byte_count;
  }
  // Only a connected AF_UNIX SOCK_SEQPACKET socket: with a DGRAM, UDP or netlink socket the
  // connection would never see its peer go, and a STREAM one would lose message boundaries.
  absl::Status kind = CheckImcSocket(packet.fds[0].get());
  if (!kind.ok()) return MalformedRequest(kind.message());
  ConnectedSocket connection(std::move(packet.fds[0]), ConnectedSocket::Role::kAccepted);
  if ((flags & kFlagCarriesMessage) != 0) {
    connection.SetBufferedMessage(std::string(first, first_bytes));
  }
  // A waiting connector hears now; the others learn it from the first message, or from the
  // acknowledgement the connection sends if it closes without one.
  if ((flags & kFlagAwaitsAccept) != 0) connection.SendAcceptAck();
  return connection;
}

}  // namespace imc
