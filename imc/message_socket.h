// Sockets that carry IMC messages: ConnectedSocket (bytes and descriptors, made by connect
// and accept) and DataOnlySocket (bytes only, made in pairs by MakeDataOnlyPair()).
//
// A message is up to kMaxUserBytes of user data, gathered from and scattered to iovecs, plus
// up to kMaxDescriptors typed descriptors. Send and Receive may be called from many threads;
// each message is sent and received whole.
#ifndef IMC_MESSAGE_SOCKET_H_
#define IMC_MESSAGE_SOCKET_H_

#include <stddef.h>
#include <sys/uio.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/unique_fd.h"
#include "imc/cancellation.h"
#include "imc/descriptor.h"
#include "imc/packet.h"
#include "imc/wire_format.h"

namespace imc {

// The most iovecs one message may be gathered from or scattered to.
inline constexpr size_t kMaxIovecs = 1023;

struct OutgoingMessage {
  absl::Span<const iovec> data;
  absl::Span<const OutgoingDescriptor> descriptors;
};

struct ReceivedMessage {
  // User bytes stored in the buffers.
  size_t bytes = 0;
  // The message had more bytes than the buffers held; the rest was discarded.
  bool data_truncated = false;
  // More descriptors arrived than the caller had room for; the extras were closed.
  bool descriptors_truncated = false;
  std::vector<IncomingDescriptor> descriptors;
};

class MessageSocket {
 public:
  MessageSocket(MessageSocket&& other) noexcept;
  MessageSocket& operator=(MessageSocket&& other) noexcept;
  // An accepted connection that never sent anything tells its connector it was accepted
  // before it closes (see kAcceptAck).
  ~MessageSocket();

  // Sends one message. Errors (errno): E2BIG more than kMaxDescriptors, EMSGSIZE more than
  // kMaxUserBytes, EINVAL more than kMaxIovecs or an unknown HostIoAccess, EOPNOTSUPP
  // descriptors on a data-only socket, EBADF a descriptor without an fd, EPIPE peer closed,
  // EAGAIN / ETIMEDOUT / ECANCELED from `wait`.
  absl::Status Send(const OutgoingMessage& message, const WaitOptions& wait = {}) const;

  // Receives one message into `buffers`, keeping at most `max_descriptors` descriptors.
  // Errors (errno): EPIPE peer closed and nothing queued, ECONNREFUSED this connection's
  // request was dropped before any acceptor took it, EPROTO a malformed message (its fds are
  // closed), EINVAL more than kMaxIovecs, EAGAIN / ETIMEDOUT / ECANCELED from `wait` (EAGAIN
  // also after wait.max_skipped_packets acknowledgements).
  absl::StatusOr<ReceivedMessage> Receive(absl::Span<const iovec> buffers, size_t max_descriptors,
                                          const WaitOptions& wait = {}) const;

  // True if the next queued packet is an acceptance acknowledgement, which Receive() skips:
  // a socket that poll(2) calls readable may then have nothing for the caller yet. Looks
  // without consuming (MSG_PEEK with no room for fds, so none is installed), because another
  // thread may receive meanwhile. False if the queue is empty or holds anything else.
  bool AcknowledgementFirst() const;

  // True while the connection's first message, which came with its connection request
  // (SocketAddress::ConnectAndSend), waits here for Receive(). The fd is not readable for it:
  // whoever waits on fd() (poll) must look here first.
  bool HasBufferedMessage() const {
    return first_message_.load(std::memory_order_acquire) != nullptr;
  }

  // True once every later packet on this socket is a plain message that needs none of the
  // acceptance protocol: the socket has no acceptance to track, its connector saw the
  // acceptance, or its acceptor owes no acknowledgement; and no first message waits here
  // (HasBufferedMessage). Another process may then send and
  // receive on the host socket with the wire header alone (the loader's direct data path).
  bool Settled() const;

  int fd() const { return fd_.get(); }

 protected:
  enum class Role {
    kDataOnly,    // MakeDataOnlyPair: no descriptors.
    kConnected,   // A host socket: no acceptance to track.
    kConnecting,  // The connector's end: end of stream before acceptance is a refusal.
    kAccepted,    // The acceptor's end: its messages carry kFlagFromAcceptor.
  };
  MessageSocket(base::UniqueFd fd, Role role);

  // Sends the acceptance acknowledgement now (kAccepted only), if it is still owed.
  void SendAcceptAck() const;

  // Keeps `bytes`, the first message of an accepted connection, for the next Receive().
  void SetBufferedMessage(std::string bytes);

  // Waits for the acceptor's acknowledgement of a kConnecting socket. ECONNREFUSED if the
  // request was dropped, EPROTO if anything else came first.
  absl::Status AwaitAccept(const WaitOptions& wait) const;

 private:
  // Receives one packet into `iov` (whose first entry is `header`) and checks its header.
  // End of stream is EPIPE, or ECONNREFUSED for a connection never accepted.
  absl::StatusOr<ParsedHeader> ReceiveFrame(absl::Span<const iovec> iov, const WireHeader& header,
                                            const WaitOptions& wait, ReceivedPacket* packet) const;

  base::UniqueFd fd_;
  Role role_;
  // For kConnecting: the acceptor's acknowledgement arrived. Until it has, end of stream
  // means the request was dropped unaccepted.
  mutable std::atomic<bool> accepted_{false};
  // For kAccepted: nothing told the connector yet that its request was accepted.
  mutable std::atomic<bool> owes_accept_ack_{false};
  // For kAccepted: the first message, which came with the request, until a Receive() takes it
  // (owned; null when there is none).
  mutable std::atomic<std::string*> first_message_{nullptr};
};

class ConnectedSocket : public MessageSocket {
 public:
  // Adopts a host IMC socket (AF_UNIX SOCK_SEQPACKET, e.g. one end of a socketpair an
  // embedder made). EPROTO if `fd` is not one.
  static absl::StatusOr<ConnectedSocket> FromHostSocket(base::UniqueFd fd);

 private:
  friend class BoundSocket;
  friend class SocketAddress;
  using MessageSocket::MessageSocket;
};

class DataOnlySocket : public MessageSocket {
 public:
  // Adopts `fd`, which must already be an IMC socket (as Receive() checks for
  // kDataOnlySocket descriptors).
  static DataOnlySocket Adopt(base::UniqueFd fd);

 private:
  using MessageSocket::MessageSocket;
};

// Returns the two ends of a new data-only channel.
absl::StatusOr<std::pair<DataOnlySocket, DataOnlySocket>> MakeDataOnlyPair();

}  // namespace imc

#endif  // IMC_MESSAGE_SOCKET_H_
