#include "imc/message_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "imc/packet.h"

namespace imc {
namespace {

absl::Status DroppedRequest() {
  return base::ErrnoStatus(ECONNREFUSED,
                           "connection request was dropped unaccepted (bound socket closed)");
}

}  // namespace

MessageSocket::MessageSocket(base::UniqueFd fd, Role role)
    : fd_(std::move(fd)), role_(role), owes_accept_ack_(role == Role::kAccepted) {}

MessageSocket::MessageSocket(MessageSocket&& other) noexcept
    : fd_(std::move(other.fd_)),
      role_(other.role_),
      accepted_(other.accepted_.load()),
      owes_accept_ack_(other.owes_accept_ack_.exchange(false)),
      first_message_(other.first_message_.exchange(nullptr)) {}

MessageSocket& MessageSocket::operator=(MessageSocket&& other) noexcept {
  SendAcceptAck();
  fd_ = std::move(other.fd_);
  role_ = other.role_;
  accepted_.store(other.accepted_.load());
  owes_accept_ack_.store(other.owes_accept_ack_.exchange(false));
  delete first_message_.exchange(other.first_message_.exchange(nullptr));
  return *this;
}

MessageSocket::~MessageSocket() {
  SendAcceptAck();
  delete first_message_.load(std::memory_order_relaxed);
}

void MessageSocket::SetBufferedMessage(std::string bytes) {
  delete first_message_.exchange(new std::string(std::move(bytes)));
}

void MessageSocket::SendAcceptAck() const {
  // A plain load first: the destructor of every socket passes here.
  if (!owes_accept_ack_.load(std::memory_order_relaxed) || !owes_accept_ack_.exchange(false) ||
      !fd_.valid()) {
    return;
  }
  WireHeader ack = MakeWireHeader(PacketKind::kAcceptAck, 0, {});
  iovec iov = {&ack, sizeof(ack)};
  WaitOptions nonblocking;
  nonblocking.nonblocking = true;
  // A connector that already gave up finds out on its own.
  (void)SendPacket(fd_.get(), {&iov, 1}, {}, nonblocking);
}

absl::Status MessageSocket::Send(const OutgoingMessage& message, const WaitOptions& wait) const {
  if (message.descriptors.size() > kMaxDescriptors) {
    return base::ErrnoStatus(
        E2BIG, absl::StrCat(message.descriptors.size(), " descriptors in one message, at most ",
                            kMaxDescriptors));
  }
  if (role_ == Role::kDataOnly && !message.descriptors.empty()) {
    return base::ErrnoStatus(EOPNOTSUPP, "a data-only socket cannot carry descriptors");
  }
  if (message.data.size() > kMaxIovecs) {
    return base::ErrnoStatus(EINVAL,
                             absl::StrCat(message.data.size(), " iovecs, at most ", kMaxIovecs));
  }
  size_t total = 0;
  for (const iovec& v : message.data) {
    if (v.iov_len > kMaxUserBytes - total) {
      return base::ErrnoStatus(
          EMSGSIZE, absl::StrCat("message has more than ", kMaxUserBytes, " bytes of user data"));
    }
    total += v.iov_len;
  }
  absl::InlinedVector<WireTag, kMaxDescriptors> tags;
  absl::InlinedVector<int, kMaxDescriptors> fds;
  for (size_t i = 0; i < message.descriptors.size(); ++i) {
    const OutgoingDescriptor& d = message.descriptors[i];
    if (!IsKnownDescriptorKind(static_cast<uint8_t>(d.kind))) {
      return base::ErrnoStatus(
          EINVAL,
          absl::StrCat("descriptor ", i, " (", DescriptorKindName(d.kind), ") may not travel"));
    }
    if (d.kind == DescriptorKind::kHostIo && !IsKnownHostIoAccess(static_cast<uint8_t>(d.access))) {
      return base::ErrnoStatus(EINVAL,
                               absl::StrCat("descriptor ", i, " has an unknown HostIo access ",
                                            static_cast<int>(d.access)));
    }
    tags.push_back({d.kind, d.access});
    if (d.kind == DescriptorKind::kInvalid) continue;
    if (d.fd < 0) {
      return base::ErrnoStatus(
          EBADF, absl::StrCat("descriptor ", i, " (", DescriptorKindName(d.kind), ") has no fd"));
    }
    fds.push_back(d.fd);
  }
  WireHeader header = MakeWireHeader(PacketKind::kMessage, static_cast<uint32_t>(total), tags);
  if (role_ == Role::kAccepted) {
    // Every message from the acceptor says "accepted", so no separate acknowledgement is
    // owed once one went out.
    header.flags = kFlagFromAcceptor;
  }
  absl::InlinedVector<iovec, 8> iov;
  iov.reserve(message.data.size() + 1);
  iov.push_back({&header, sizeof(header)});
  iov.insert(iov.end(), message.data.begin(), message.data.end());
  absl::Status sent = SendPacket(fd_.get(), iov, fds, wait);
  if (sent.ok() && role_ == Role::kAccepted) owes_accept_ack_.store(false);
  return sent;
}

absl::StatusOr<ReceivedMessage> MessageSocket::Receive(absl::Span<const iovec> buffers,
                                                       size_t max_descriptors,
                                                       const WaitOptions& wait) const {
  if (buffers.size() > kMaxIovecs) {
    return base::ErrnoStatus(EINVAL, absl::StrCat(buffers.size(), " iovecs, at most ", kMaxIovecs));
  }
  size_t room = 0;
  for (const iovec& v : buffers) room += v.iov_len;  // Bounded by the address space.

  if (first_message_.load(std::memory_order_relaxed) != nullptr) {
    std::unique_ptr<std::string> first(first_message_.exchange(nullptr));
    if (first != nullptr) {
      // Scattered as recvmsg would have scattered it; it carries no descriptors.
      ReceivedMessage message;
      message.bytes = first->size() < room ? first->size() : room;
      message.data_truncated = first->size() > room;
      size_t copied = 0;
      for (const iovec& v : buffers) {
        if (copied == message.bytes) break;
        const size_t n = v.iov_len < message.bytes - copied ? v.iov_len : message.bytes - copied;
        memcpy(v.iov_base, first->data() + copied, n);
        copied += n;
      }
      return message;
    }
  }

  WireHeader header;
  absl::InlinedVector<iovec, 8> iov;
  iov.reserve(buffers.size() + 1);
  iov.push_back({&header, sizeof(header)});
  iov.insert(iov.end(), buffers.begin(), buffers.end());

  for (int skipped = 0;; ++skipped) {
    if (wait.max_skipped_packets > 0 && skipped >= wait.max_skipped_packets) {
      return SkippedPacketsStatus("acknowledgements only so far; more may be queued");
    }
    ReceivedPacket packet;
    ASSIGN_OR_RETURN(ParsedHeader parsed, ReceiveFrame(iov, header, wait, &packet));
    if (parsed.packet_kind == PacketKind::kAcceptAck) {
      accepted_.store(true);
      continue;
    }
    if ((parsed.flags & kFlagFromAcceptor) != 0 && !accepted_.load(std::memory_order_relaxed)) {
      accepted_.store(true);
    }
    if (role_ == Role::kDataOnly && parsed.descriptor_count != 0) {
      return base::ErrnoStatus(EPROTO, "descriptors arrived on a data-only socket");
    }
    size_t next_fd = 0;
    for (size_t i = 0; i < parsed.descriptor_count; ++i) {
      if (parsed.tags[i] == DescriptorKind::kInvalid) continue;
      RETURN_IF_ERROR(CheckDescriptorKind(packet.fds[next_fd++].get(), parsed.tags[i]));
    }

    ReceivedMessage message;
    message.bytes = parsed.byte_count < room ? parsed.byte_count : room;
    message.data_truncated = parsed.byte_count > room;
    message.descriptors_truncated = parsed.descriptor_count > max_descriptors;
    size_t keep = message.descriptors_truncated ? max_descriptors : parsed.descriptor_count;
    message.descriptors.reserve(keep);
    next_fd = 0;
    for (size_t i = 0; i < keep; ++i) {
      IncomingDescriptor d{parsed.tags[i], base::UniqueFd(), HostIoAccess::kNone};
      if (d.kind != DescriptorKind::kInvalid) d.fd = std::move(packet.fds[next_fd++]);
      // A grant never exceeds what the sender said nor what the fd's open mode allows.
      if (d.kind == DescriptorKind::kHostIo) {
        d.access = Intersect(parsed.access[i], AccessOfFd(d.fd.get()));
      }
      message.descriptors.push_back(std::move(d));
    }
    // Descriptors beyond `keep` are closed with `packet`.
    return message;
  }
}

absl::StatusOr<ParsedHeader> MessageSocket::ReceiveFrame(absl::Span<const iovec> iov,
                                                         const WireHeader& header,
                                                         const WaitOptions& wait,
                                                         ReceivedPacket* packet) const {
  ASSIGN_OR_RETURN(*packet, ReceivePacket(fd_.get(), iov, wait));
  if (AtEndOfStream(fd_.get(), *packet)) {
    if (role_ == Role::kConnecting && !accepted_.load()) return DroppedRequest();
    return base::ErrnoStatus(EPIPE, "peer closed");
  }
  return ParseWireHeader(header, packet->size, packet->fds.size());
}

absl::Status MessageSocket::AwaitAccept(const WaitOptions& wait) const {
  WireHeader header;
  iovec iov = {&header, sizeof(header)};
  while (!accepted_.load()) {
    ReceivedPacket packet;
    ASSIGN_OR_RETURN(ParsedHeader parsed, ReceiveFrame({&iov, 1}, header, wait, &packet));
    if (parsed.packet_kind != PacketKind::kAcceptAck) {
      return base::ErrnoStatus(EPROTO, "a message arrived before the accept acknowledgement");
    }
    accepted_.store(true);
  }
  return absl::OkStatus();
}

bool MessageSocket::AcknowledgementFirst() const {
  WireHeader header;
  iovec iov = {&header, sizeof(header)};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t size = recvmsg(fd_.get(), &msg, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
  // With fds attached (MSG_CTRUNC) it is no clean acknowledgement: Receive() reports it.
  if (size < static_cast<ssize_t>(sizeof(header)) || (msg.msg_flags & MSG_CTRUNC) != 0) {
    return false;
  }
  absl::StatusOr<ParsedHeader> parsed = ParseWireHeader(header, static_cast<size_t>(size), 0);
  return parsed.ok() && parsed->packet_kind == PacketKind::kAcceptAck;
}

bool MessageSocket::Settled() const {
  if (HasBufferedMessage()) return false;
  switch (role_) {
    case Role::kDataOnly:
    case Role::kConnected:
      return true;
    case Role::kConnecting:
      return accepted_.load();
    case Role::kAccepted:
      return !owes_accept_ack_.load();
  }
  return false;
}

absl::StatusOr<ConnectedSocket> ConnectedSocket::FromHostSocket(base::UniqueFd fd) {
  RETURN_IF_ERROR(CheckImcSocket(fd.get()));
  return ConnectedSocket(std::move(fd), Role::kConnected);
}

DataOnlySocket DataOnlySocket::Adopt(base::UniqueFd fd) {
  return DataOnlySocket(std::move(fd), Role::kDataOnly);
}

absl::StatusOr<std::pair<DataOnlySocket, DataOnlySocket>> MakeDataOnlyPair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return base::ErrnoStatus(errno, "socketpair");
  }
  return std::make_pair(DataOnlySocket::Adopt(base::UniqueFd(fds[0])),
                        DataOnlySocket::Adopt(base::UniqueFd(fds[1])));
}

}  // namespace imc
