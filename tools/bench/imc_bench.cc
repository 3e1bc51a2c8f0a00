// imc_bench: the host IMC library (imc/) against the legacy way of doing the same work with system
// calls (listening AF_UNIX sockets, raw SOCK_SEQPACKET socketpairs and SCM_RIGHTS), measured in the
// same run with the same CPU placement. See --help, and bench_runner.h for how figures are
// measured.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "imc/imc.h"
#include "tools/bench/bench_runner.h"
#include "tools/bench/sandbox_bench_process.h"

namespace {

// The "small message" of connect_accept and msg_rtt_64B, and the payload of the descriptor rows.
constexpr size_t kSmallMessageBytes = 64;
constexpr size_t kLargeMessageBytes = 64 * 1024;
static_assert(kLargeMessageBytes <= imc::kMaxUserBytes, "msg_rtt_64KiB fits one IMC message");

absl::Status Errno(const char* what) { return base::ErrnoStatus(errno, what); }

absl::Status Unexpected(const char* what) {
  return absl::InternalError(absl::StrCat("unexpected ", what));
}

imc::OutgoingMessage Message(const iovec* data, size_t iovecs,
                             absl::Span<const imc::OutgoingDescriptor> descriptors = {}) {
  imc::OutgoingMessage message;
  message.data = absl::MakeConstSpan(data, iovecs);
  message.descriptors = descriptors;
  return message;
}

double NowSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> RawSocketPair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return Errno("socketpair");
  }
  return std::make_pair(base::UniqueFd(fds[0]), base::UniqueFd(fds[1]));
}

// In a forked child: closes every fd except those in `keep`.
void CloseFdsExcept(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned int next = 0;
  for (int fd : keep) {
    if (fd < 0) continue;
    if (static_cast<unsigned int>(fd) > next) close_range(next, fd - 1, 0);
    next = static_cast<unsigned int>(fd) + 1;
  }
  close_range(next, ~0U, 0);
}

// Both ends of one IMC connection in this process, made the way an embedder makes them
// (MakeBoundSocket, Connect, Accept), with the accept acknowledgement already consumed so that no
// timed Receive() pays for it.
struct Connection {
  imc::ConnectedSocket connector;
  imc::ConnectedSocket acceptor;
};

absl::StatusOr<Connection> MakeConnection() {
  ASSIGN_OR_RETURN(auto bound_and_address, imc::MakeBoundSocket());
  ASSIGN_OR_RETURN(imc::ConnectedSocket connector, bound_and_address.second.Connect());
  ASSIGN_OR_RETURN(imc::ConnectedSocket acceptor, bound_and_address.first.Accept());
  RETURN_IF_ERROR(acceptor.Send(Message(nullptr, 0)));
  ASSIGN_OR_RETURN(imc::ReceivedMessage hello, connector.Receive({}, 0));
  if (hello.bytes != 0) return Unexpected("bytes in the hello message");
  return Connection{std::move(connector), std::move(acceptor)};
}

// --- The legacy side: raw sendmsg/recvmsg and abstract-namespace listening sockets ---------------

// Sends `size` bytes and `fds` (borrowed; none: no control message) in one packet.
absl::Status RawSend(int socket_fd, const void* data, size_t size, absl::Span<const int> fds) {
  iovec iov = {const_cast<void*>(data), size};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * imc::kMaxDescriptors)];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fds.size() > imc::kMaxDescriptors) return Unexpected("fd count");
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t sent = sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
  if (sent < 0) return Errno("sendmsg");
  if (static_cast<size_t>(sent) != size) return Unexpected("short sendmsg");
  return absl::OkStatus();
}

// One received packet: its byte count and the fds it carried (owned by the caller).
struct RawPacket {
  size_t bytes = 0;
  size_t fd_count = 0;
  int fds[imc::kMaxDescriptors];

  void CloseFds() const {
    for (size_t i = 0; i < fd_count; ++i) close(fds[i]);
  }
};

// Receives one packet of up to `size` bytes with room for exactly `max_fds` fds (none: no control
// buffer), marked close-on-exec as imc marks them. 0 bytes and no fds: end of stream.
absl::StatusOr<RawPacket> RawReceive(int socket_fd, void* buffer, size_t size, size_t max_fds) {
  iovec iov = {buffer, size};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * imc::kMaxDescriptors)];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (max_fds > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * std::min(max_fds, imc::kMaxDescriptors));
  }
  ssize_t received;
  do {
    received = recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received < 0) return Errno("recvmsg");
  RawPacket packet;
  packet.bytes = static_cast<size_t>(received);
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count && packet.fd_count < imc::kMaxDescriptors; ++i) {
      memcpy(&packet.fds[packet.fd_count++], CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
    }
  }
  if ((msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0) {
    packet.CloseFds();
    return Unexpected("truncated packet");
  }
  return packet;
}

// An abstract-namespace AF_UNIX name, unique to this process.
class AbstractName {
 public:
  AbstractName() {
    static int next = 0;
    const std::string name = absl::StrCat("imc_bench.", getpid(), ".", next++);
    address_.sun_family = AF_UNIX;
    address_.sun_path[0] = '\0';  // Abstract: no file, gone with its last socket.
    memcpy(address_.sun_path + 1, name.data(), name.size());
    length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  }

  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t length() const { return length_; }

 private:
  sockaddr_un address_ = {};
  socklen_t length_ = 0;
};

// Returns a SOCK_SEQPACKET socket bound to `name` and listening with `backlog` (the kernel caps it
// at net.core.somaxconn).
absl::StatusOr<base::UniqueFd> ListenAt(const AbstractName& name, int backlog) {
  base::UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno("socket");
  if (bind(fd.get(), name.address(), name.length()) != 0) return Errno("bind");
  if (listen(fd.get(), backlog) != 0) return Errno("listen");
  return fd;
}

// Returns a new SOCK_SEQPACKET socket connected to `name` (`flags`: SOCK_NONBLOCK or 0).
absl::StatusOr<base::UniqueFd> ConnectTo(const AbstractName& name, int flags) {
  base::UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0));
  if (!fd.valid()) return Errno("socket");
  if (connect(fd.get(), name.address(), name.length()) != 0) return Errno("connect");
  return fd;
}

// --- msg_rtt_*, msg_*desc_rtt, msg_8addr_rtt: ping-pong with a forked echo process ---------------

// The descriptors that travel with each message of a ping-pong: `count` fds of one kind, and what
// keeps them meaningful (the other pipe ends, the bound sockets).
struct DescriptorSet {
  imc::DescriptorKind kind = imc::DescriptorKind::kHostIo;
  std::vector<int> fds;
  std::vector<base::UniqueFd> owned;
  std::vector<std::pair<imc::BoundSocket, imc::SocketAddress>> bound;
};

// kHostIo: write ends of pipes. kSocketAddress: addresses of bound sockets.
absl::StatusOr<DescriptorSet> MakeDescriptorSet(imc::DescriptorKind kind, size_t count) {
  DescriptorSet set;
  set.kind = kind;
  for (size_t i = 0; i < count; ++i) {
    if (kind == imc::DescriptorKind::kHostIo) {
      int ends[2];
      if (pipe2(ends, O_CLOEXEC) != 0) return Errno("pipe2");
      set.owned.emplace_back(ends[0]);
      set.owned.emplace_back(ends[1]);
      set.fds.push_back(ends[1]);
    } else if (kind == imc::DescriptorKind::kSocketAddress) {
      ASSIGN_OR_RETURN(auto bound_and_address, imc::MakeBoundSocket());
      set.fds.push_back(bound_and_address.second.fd());
      set.bound.push_back(std::move(bound_and_address));
    } else {
      return Unexpected("descriptor kind");
    }
  }
  return set;
}

// What one ping-pong row sends each way.
struct PingPongShape {
  size_t bytes = kSmallMessageBytes;
  imc::DescriptorKind kind = imc::DescriptorKind::kHostIo;
  size_t descriptors = 0;
};

// The peer of ImcPingPong: echoes each message, with the descriptors that came with it (then closes
// them), until the connection closes.
int ImcEcho(const imc::ConnectedSocket& socket, size_t bytes) {
  std::vector<char> buffer(bytes);
  iovec data = {buffer.data(), buffer.size()};
  for (;;) {
    absl::StatusOr<imc::ReceivedMessage> message = socket.Receive({&data, 1}, imc::kMaxDescriptors);
    if (!message.ok()) return base::ErrnoOf(message.status()) == EPIPE ? 0 : 1;
    imc::OutgoingDescriptor out[imc::kMaxDescriptors];
    for (size_t i = 0; i < message->descriptors.size(); ++i) {
      out[i] = {message->descriptors[i].kind, message->descriptors[i].fd.get()};
    }
    iovec reply = {buffer.data(), message->bytes};
    if (!socket.Send(Message(&reply, 1, {out, message->descriptors.size()})).ok()) return 2;
    // The received descriptors close with `message`.
  }
}

class ImcPingPong : public bench::Workload {
 public:
  ImcPingPong(int peer_cpu, PingPongShape shape) : peer_cpu_(peer_cpu), shape_(shape) {}

  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(descriptors_, MakeDescriptorSet(shape_.kind, shape_.descriptors));
    for (int fd : descriptors_.fds) outgoing_.push_back({descriptors_.kind, fd});
    {
      ASSIGN_OR_RETURN(Connection connection, MakeConnection());
      const imc::ConnectedSocket& acceptor = connection.acceptor;
      const size_t bytes = shape_.bytes;
      RETURN_IF_ERROR(peer_.Fork({{acceptor.fd(), acceptor.fd()}}, peer_cpu_,
                                 [&] { return ImcEcho(acceptor, bytes); }));
      socket_.emplace(std::move(connection.connector));
    }  // Our copy of the peer's end closes here.
    out_.assign(shape_.bytes, 'p');
    in_.assign(shape_.bytes, 0);
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    iovec out = {out_.data(), out_.size()};
    iovec in = {in_.data(), in_.size()};
    for (int64_t i = 0; i < iterations; ++i) {
      RETURN_IF_ERROR(socket_->Send(Message(&out, 1, outgoing_)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage reply,
                       socket_->Receive({&in, 1}, imc::kMaxDescriptors));
      if (reply.bytes != shape_.bytes || reply.descriptors.size() != shape_.descriptors) {
        return Unexpected("reply");
      }
      // The returned descriptors close with `reply`.
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    socket_.reset();  // The peer sees the end of the stream and exits.
    return peer_.Wait();
  }

 private:
  const int peer_cpu_;
  const PingPongShape shape_;
  DescriptorSet descriptors_;
  std::vector<imc::OutgoingDescriptor> outgoing_;
  std::optional<imc::ConnectedSocket> socket_;
  sandbox_bench::ChildProcess peer_;
  std::vector<char> out_;
  std::vector<char> in_;
};

// The peer of RawPingPong: echoes each packet with the fds that came with it (then closes them)
// until the connection closes.
int RawEcho(int fd, size_t bytes, size_t max_fds) {
  std::vector<char> buffer(bytes);
  for (;;) {
    absl::StatusOr<RawPacket> packet = RawReceive(fd, buffer.data(), buffer.size(), max_fds);
    if (!packet.ok()) return 1;
    if (packet->bytes == 0 && packet->fd_count == 0) return 0;  // End of stream.
    absl::Status sent = RawSend(fd, buffer.data(), packet->bytes, {packet->fds, packet->fd_count});
    packet->CloseFds();
    if (!sent.ok()) return 2;
  }
}

class RawPingPong : public bench::Workload {
 public:
  RawPingPong(int peer_cpu, PingPongShape shape) : peer_cpu_(peer_cpu), shape_(shape) {}

  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(descriptors_, MakeDescriptorSet(shape_.kind, shape_.descriptors));
    {
      ASSIGN_OR_RETURN(auto ends, RawSocketPair());
      const int peer_fd = ends.second.get();
      const size_t bytes = shape_.bytes;
      const size_t max_fds = shape_.descriptors;
      RETURN_IF_ERROR(peer_.Fork({{peer_fd, peer_fd}}, peer_cpu_,
                                 [=] { return RawEcho(peer_fd, bytes, max_fds); }));
      fd_ = std::move(ends.first);
    }  // Our copy of the peer's end closes here.
    out_.assign(shape_.bytes, 'p');
    in_.assign(shape_.bytes, 0);
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) {
      RETURN_IF_ERROR(RawSend(fd_.get(), out_.data(), out_.size(), descriptors_.fds));
      ASSIGN_OR_RETURN(RawPacket reply,
                       RawReceive(fd_.get(), in_.data(), in_.size(), shape_.descriptors));
      reply.CloseFds();
      if (reply.bytes != shape_.bytes || reply.fd_count != shape_.descriptors) {
        return Unexpected("reply");
      }
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    fd_.reset();
    return peer_.Wait();
  }

 private:
  const int peer_cpu_;
  const PingPongShape shape_;
  DescriptorSet descriptors_;
  base::UniqueFd fd_;
  sandbox_bench::ChildProcess peer_;
  std::vector<char> out_;
  std::vector<char> in_;
};

// --- connect_accept: both ends in this process ---------------------------------------------------

// One connection per iteration: Connect, Accept, a small message from the connector, the same bytes
// back from the acceptor, and both ends closed.
class ImcConnectAccept : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(auto bound_and_address, imc::MakeBoundSocket());
    bound_.emplace(std::move(bound_and_address.first));
    address_.emplace(std::move(bound_and_address.second));
    memset(request_, 'r', sizeof(request_));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    iovec request = {request_, sizeof(request_)};
    iovec buffer = {buffer_, sizeof(buffer_)};
    for (int64_t i = 0; i < iterations; ++i) {
      ASSIGN_OR_RETURN(imc::ConnectedSocket connector, address_->Connect());
      ASSIGN_OR_RETURN(imc::ConnectedSocket acceptor, bound_->Accept());
      RETURN_IF_ERROR(connector.Send(Message(&request, 1)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage received, acceptor.Receive({&buffer, 1}, 0));
      iovec reply = {buffer_, received.bytes};
      RETURN_IF_ERROR(acceptor.Send(Message(&reply, 1)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage replied, connector.Receive({&buffer, 1}, 0));
      if (replied.bytes != sizeof(request_)) return Unexpected("reply size");
      // Both ends close here.
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    address_.reset();
    bound_.reset();
    return absl::OkStatus();
  }

 private:
  std::optional<imc::BoundSocket> bound_;
  std::optional<imc::SocketAddress> address_;
  char request_[kSmallMessageBytes];
  char buffer_[kSmallMessageBytes];
};

// The legacy way: a SOCK_SEQPACKET socket listening at an abstract name, and per iteration socket +
// connect, accept4, the same round trip with sendmsg/recvmsg, and both closes.
class LegacyConnectAccept : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(listener_, ListenAt(name_, SOMAXCONN));
    memset(request_, 'r', sizeof(request_));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) {
      ASSIGN_OR_RETURN(base::UniqueFd connector, ConnectTo(name_, 0));
      base::UniqueFd acceptor(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!acceptor.valid()) return Errno("accept4");
      RETURN_IF_ERROR(RawSend(connector.get(), request_, sizeof(request_), {}));
      ASSIGN_OR_RETURN(RawPacket received, RawReceive(acceptor.get(), buffer_, sizeof(buffer_), 0));
      RETURN_IF_ERROR(RawSend(acceptor.get(), buffer_, received.bytes, {}));
      ASSIGN_OR_RETURN(RawPacket replied, RawReceive(connector.get(), buffer_, sizeof(buffer_), 0));
      if (replied.bytes != sizeof(request_)) return Unexpected("reply size");
    }
    return absl::OkStatus();
  }

 private:
  AbstractName name_;
  base::UniqueFd listener_;
  char request_[kSmallMessageBytes];
  char buffer_[kSmallMessageBytes];
};

// --- connect_accept_confirmed, connect_accept_2proc: the acceptor in a forked process ------------

// The acceptor process of ImcRemoteConnectAccept: accepts, echoes one message and closes the
// connection, until every address is closed.
int ImcAcceptor(const imc::BoundSocket& bound) {
  char buffer[kSmallMessageBytes];
  iovec in = {buffer, sizeof(buffer)};
  for (;;) {
    absl::StatusOr<imc::ConnectedSocket> connection = bound.Accept();
    if (!connection.ok()) return base::ErrnoOf(connection.status()) == EPIPE ? 0 : 1;
    absl::StatusOr<imc::ReceivedMessage> message = connection->Receive({&in, 1}, 0);
    if (!message.ok()) return 2;
    iovec reply = {buffer, message->bytes};
    if (!connection->Send(Message(&reply, 1)).ok()) return 3;
  }
}

// Per iteration: Connect (waiting for the acceptance if `confirmed`), a small message, its echo
// from the acceptor process, and our end closed.
class ImcRemoteConnectAccept : public bench::Workload {
 public:
  ImcRemoteConnectAccept(int peer_cpu, bool confirmed) : peer_cpu_(peer_cpu) {
    options_.wait_for_accept = confirmed;
  }

  absl::Status SetUp() override {
    {
      ASSIGN_OR_RETURN(auto bound_and_address, imc::MakeBoundSocket());
      const imc::BoundSocket& bound = bound_and_address.first;
      RETURN_IF_ERROR(
          peer_.Fork({{bound.fd(), bound.fd()}}, peer_cpu_, [&] { return ImcAcceptor(bound); }));
      address_.emplace(std::move(bound_and_address.second));
    }  // Only the acceptor process holds the bound socket now.
    memset(request_, 'r', sizeof(request_));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    iovec request = {request_, sizeof(request_)};
    iovec buffer = {buffer_, sizeof(buffer_)};
    for (int64_t i = 0; i < iterations; ++i) {
      ASSIGN_OR_RETURN(imc::ConnectedSocket connector, address_->Connect(options_));
      RETURN_IF_ERROR(connector.Send(Message(&request, 1)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage replied, connector.Receive({&buffer, 1}, 0));
      if (replied.bytes != sizeof(request_)) return Unexpected("reply size");
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    address_.reset();  // The acceptor's Accept() sees EPIPE and it exits.
    return peer_.Wait();
  }

 private:
  const int peer_cpu_;
  imc::ConnectOptions options_;
  std::optional<imc::SocketAddress> address_;
  sandbox_bench::ChildProcess peer_;
  char request_[kSmallMessageBytes];
  char buffer_[kSmallMessageBytes];
};

// A one-byte request that tells LegacyAcceptor to exit.
constexpr char kQuitRequest = 'q';

// The acceptor process of LegacyRemoteConnectAccept: accept4, echo one packet, close, until a
// connection sends kQuitRequest alone.
int LegacyAcceptor(int listener) {
  char buffer[kSmallMessageBytes];
  for (;;) {
    base::UniqueFd connection(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection.valid()) {
      if (errno == EINTR) continue;
      return 1;
    }
    absl::StatusOr<RawPacket> packet = RawReceive(connection.get(), buffer, sizeof(buffer), 0);
    if (!packet.ok()) return 2;
    if (packet->bytes == 1 && buffer[0] == kQuitRequest) return 0;
    if (!RawSend(connection.get(), buffer, packet->bytes, {}).ok()) return 3;
  }
}

class LegacyRemoteConnectAccept : public bench::Workload {
 public:
  explicit LegacyRemoteConnectAccept(int peer_cpu) : peer_cpu_(peer_cpu) {}

  absl::Status SetUp() override {
    {
      ASSIGN_OR_RETURN(base::UniqueFd listener, ListenAt(name_, SOMAXCONN));
      const int fd = listener.get();
      RETURN_IF_ERROR(peer_.Fork({{fd, fd}}, peer_cpu_, [fd] { return LegacyAcceptor(fd); }));
    }  // Only the acceptor process holds the listening socket now.
    memset(request_, 'r', sizeof(request_));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) {
      ASSIGN_OR_RETURN(base::UniqueFd connector, ConnectTo(name_, 0));
      RETURN_IF_ERROR(RawSend(connector.get(), request_, sizeof(request_), {}));
      ASSIGN_OR_RETURN(RawPacket replied, RawReceive(connector.get(), buffer_, sizeof(buffer_), 0));
      if (replied.bytes != sizeof(request_)) return Unexpected("reply size");
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    absl::StatusOr<base::UniqueFd> quit = ConnectTo(name_, 0);
    if (quit.ok()) (void)RawSend(quit->get(), &kQuitRequest, 1, {});
    return peer_.Wait();  // If the quit request failed, the peer's destructor kills it.
  }

 private:
  const int peer_cpu_;
  AbstractName name_;
  sandbox_bench::ChildProcess peer_;
  char request_[kSmallMessageBytes];
  char buffer_[kSmallMessageBytes];
};

// --- pending_connections -------------------------------------------------------------------------

// Connection attempts stop here even if the kernel would take more.
constexpr int64_t kPendingConnectionCap = 100'000;
// Connector processes hold the connections (one fd each); at most this many of them.
constexpr int kMaxConnectorProcesses = 32;
// Fds a connector process keeps for other things than its connections.
constexpr rlim_t kConnectorSpareFds = 64;
// Run as root, each connector moves to a user id of its own (see ConnectorFleet). This range is
// clear of the 60000-63999 that imc's pending_connections_test uses.
constexpr uid_t kFirstConnectorUid = 64000;
constexpr uid_t kConnectorUidSlots = 40;

// How one side's queue filled up.
struct FillOutcome {
  int64_t pending = 0;
  int processes = 0;
  std::string stopped_by;
  std::string note;  // Anything that changes how to read the count.
  double seconds = 0;
};

// Processes that open connections and hold them, none accepted, until Release(). Each holds one fd
// per connection within its RLIMIT_NOFILE (raised to the hard limit). Run as root, each first moves
// to a user id of its own: the fds in flight inside pending requests are charged to the sending
// user and bounded by RLIMIT_NOFILE (for senders without CAP_SYS_RESOURCE or CAP_SYS_ADMIN), so
// 200,000 of them charged to root would make other root processes (sandboxed tests running
// alongside) fail to pass fds with ETOOMANYREFS.
class ConnectorFleet {
 public:
  // Opens one connection and keeps it; returns its error (EAGAIN: the queue is full).
  using ConnectOne = std::function<absl::Status()>;

  ConnectorFleet() = default;
  ConnectorFleet(const ConnectorFleet&) = delete;
  ConnectorFleet& operator=(const ConnectorFleet&) = delete;
  ~ConnectorFleet() { (void)Release(); }

  // Starts connector processes one after the other, each connecting with `connect_one` (keeping
  // `keep_fd` open for it) as long as its fds last, until one stops early or the total reaches
  // `cap`. `full` says what EAGAIN means. Returns the total and what stopped it.
  absl::StatusOr<FillOutcome> Fill(int keep_fd, int64_t cap, const char* full,
                                   const ConnectOne& connect_one) {
    const double start = NowSeconds();
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return Errno("getrlimit");
    // The most fds a process may have (fs.nr_open) is at least 1M; stay below it.
    const rlim_t fds = std::min<rlim_t>(limit.rlim_max, rlim_t{1} << 20);
    if (fds <= kConnectorSpareFds) return Unexpected("RLIMIT_NOFILE");
    const int64_t per_process = static_cast<int64_t>(fds - kConnectorSpareFds);
    const bool own_uids = geteuid() == 0;
    const uid_t first_uid =
        kFirstConnectorUid + (getpid() % kConnectorUidSlots) * kMaxConnectorProcesses;
    int release[2];
    if (!release_.valid()) {
      if (pipe2(release, O_CLOEXEC) != 0) return Errno("pipe2");
      release_.reset(release[1]);
      release_read_.reset(release[0]);
    }
    FillOutcome outcome;
    while (outcome.stopped_by.empty()) {
      if (outcome.pending >= cap) {
        outcome.stopped_by = absl::StrCat("the cap of ", cap);
        break;
      }
      if (outcome.processes == kMaxConnectorProcesses) {
        outcome.stopped_by = absl::StrCat(kMaxConnectorProcesses, " connector processes of ",
                                          per_process, " fds each");
        break;
      }
      const int64_t quota = std::min(per_process, cap - outcome.pending);
      ASSIGN_OR_RETURN(Report report,
                       StartConnector(keep_fd, fds, own_uids ? first_uid + outcome.processes : 0,
                                      quota, connect_one));
      ++outcome.processes;
      outcome.pending += report.connected;
      if (report.uid_error != 0 && outcome.note.empty()) {
        outcome.note =
            absl::StrCat("; the connectors kept uid ", geteuid(),
                         " (moving to a uid of their own: ", strerror(report.uid_error), ")");
      }
      if (report.error == EAGAIN) {
        outcome.stopped_by = absl::StrCat("EAGAIN: ", full);
      } else if (report.error == ETOOMANYREFS) {
        outcome.stopped_by = "ETOOMANYREFS: the fds in flight exceed the sender's RLIMIT_NOFILE";
      } else if (report.error != 0) {
        outcome.stopped_by = absl::StrCat(report.failed_step, ": ", strerror(report.error));
      }
    }
    outcome.seconds = NowSeconds() - start;
    return outcome;
  }

  // Lets every connector exit, which closes its connections, and reaps them all.
  absl::Status Release() {
    release_.reset();
    release_read_.reset();
    absl::Status status;
    for (pid_t pid : pids_) {
      int wait_status;
      pid_t reaped;
      do {
        reaped = waitpid(pid, &wait_status, 0);
      } while (reaped < 0 && errno == EINTR);
      if (reaped < 0) {
        if (status.ok()) status = Errno("waitpid");
      } else if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
        if (status.ok()) status = absl::InternalError("a connector process failed");
      }
    }
    pids_.clear();
    return status;
  }

 private:
  // What a connector tells the parent once it has stopped connecting.
  struct Report {
    int64_t connected = 0;
    int error = 0;  // 0: it made its quota.
    const char* failed_step = "";
    int uid_error = 0;  // Moving to a user id of its own failed with this errno.
  };

  absl::StatusOr<Report> StartConnector(int keep_fd, rlim_t fds, uid_t uid, int64_t quota,
                                        const ConnectOne& connect_one) {
    int report_pipe[2];
    if (pipe2(report_pipe, O_CLOEXEC) != 0) return Errno("pipe2");
    base::UniqueFd report_read(report_pipe[0]);
    base::UniqueFd report_write(report_pipe[1]);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return Errno("fork");
    if (pid == 0) {
      // Single-threaded parent: the child may allocate. It leaves with _exit only.
      CloseFdsExcept({0, 1, 2, keep_fd, report_write.get(), release_read_.get()});
      Report report;
      struct rlimit limit = {fds, fds};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        report.error = errno;
        report.failed_step = "setrlimit(RLIMIT_NOFILE)";
      } else {
        // Where the uid is not ours to choose (a user namespace that maps only this one), the
        // connectors stay where they are, and the kernel's limits say how far they get.
        if (uid != 0 && (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 ||
                         setresuid(uid, uid, uid) != 0)) {
          report.uid_error = errno;
        }
        // After the uid change, which clears the parent-death signal.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(120);
        for (; report.connected < quota; ++report.connected) {
          absl::Status connected = connect_one();
          if (!connected.ok()) {
            report.error = base::ErrnoOf(connected) != 0 ? base::ErrnoOf(connected) : EIO;
            report.failed_step = "connect";
            break;
          }
        }
      }
      if (write(report_write.get(), &report, sizeof(report)) != sizeof(report)) _exit(121);
      char byte;
      while (read(release_read_.get(), &byte, 1) < 0 && errno == EINTR) {
      }
      _exit(0);  // Closes every connection.
    }
    pids_.push_back(pid);
    report_write.reset();
    Report report;
    ssize_t got;
    do {
      got = read(report_read.get(), &report, sizeof(report));
    } while (got < 0 && errno == EINTR);
    if (got != sizeof(report)) return absl::InternalError("a connector process died");
    return report;
  }

  base::UniqueFd release_;
  base::UniqueFd release_read_;
  std::vector<pid_t> pids_;
};

void PrintOutcome(const char* side, const FillOutcome& outcome, const std::string& extra) {
  fprintf(stderr,
          "imc_bench: pending_connections %s: %lld pending in %.2f s (%d connector "
          "process%s), stopped by %s%s%s\n",
          side, static_cast<long long>(outcome.pending), outcome.seconds, outcome.processes,
          outcome.processes == 1 ? "" : "es", outcome.stopped_by.c_str(), extra.c_str(),
          outcome.note.c_str());
}

// The count is a limit, not a noisy time: each side fills its queue once, in SetUp(), and every
// repetition reports that count.
class PendingCount : public bench::Workload {
 public:
  absl::Status Run(int64_t) override { return absl::OkStatus(); }
  absl::StatusOr<double> Measure(int64_t) override { return static_cast<double>(pending_); }

 protected:
  int64_t pending_ = 0;
};

// Connect() without waiting, never accepted, until the kernel says EAGAIN or the cap.
class ImcPendingConnections : public PendingCount {
 public:
  absl::Status SetUp() override {
    // The library's ability, not sel_ldr's default cap of 4096: ask for the bench's cap.
    imc::BoundSocketOptions bound_options;
    bound_options.max_pending = static_cast<int>(kPendingConnectionCap);
    ASSIGN_OR_RETURN(auto bound_and_address, imc::MakeBoundSocket(bound_options));
    const imc::SocketAddress& address = bound_and_address.second;
    int buffer = 0;
    socklen_t length = sizeof(buffer);
    if (getsockopt(address.fd(), SOL_SOCKET, SO_SNDBUF, &buffer, &length) != 0) {
      return Errno("getsockopt(SO_SNDBUF)");
    }
    imc::ConnectOptions options;
    options.wait.nonblocking = true;
    // Filled in each connector process (its own copy).
    std::vector<imc::ConnectedSocket> connections;
    ConnectorFleet fleet;
    ASSIGN_OR_RETURN(FillOutcome outcome,
                     fleet.Fill(address.fd(), kPendingConnectionCap,
                                "the address's send buffer is full", [&]() -> absl::Status {
                                  ASSIGN_OR_RETURN(imc::ConnectedSocket connection,
                                                   address.Connect(options));
                                  connections.push_back(std::move(connection));
                                  return absl::OkStatus();
                                }));
    // Every request is one byte in the bound socket's queue: all are pending at once.
    int queued = 0;
    if (ioctl(bound_and_address.first.fd(), SIOCINQ, &queued) != 0) return Errno("SIOCINQ");
    if (queued != outcome.pending) return Unexpected("count of queued requests");
    RETURN_IF_ERROR(fleet.Release());
    PrintOutcome("ours", outcome, absl::StrCat("; address send buffer ", buffer, " bytes"));
    pending_ = outcome.pending;
    return absl::OkStatus();
  }  // The bound socket closes here, and with it every request.
};

// Nonblocking connect() to a socket listening with backlog INT_MAX (the kernel caps it at
// net.core.somaxconn), never accepted, until EAGAIN or the cap.
class LegacyPendingConnections : public PendingCount {
 public:
  absl::Status SetUp() override {
    AbstractName name;
    ASSIGN_OR_RETURN(base::UniqueFd listener, ListenAt(name, INT_MAX));
    std::vector<base::UniqueFd> connections;
    ConnectorFleet fleet;
    ASSIGN_OR_RETURN(
        FillOutcome outcome,
        fleet.Fill(-1, kPendingConnectionCap, "the listen backlog is full", [&]() -> absl::Status {
          ASSIGN_OR_RETURN(base::UniqueFd fd, ConnectTo(name, SOCK_NONBLOCK));
          connections.push_back(std::move(fd));
          return absl::OkStatus();
        }));
    RETURN_IF_ERROR(fleet.Release());
    int somaxconn = -1;
    if (FILE* file = fopen("/proc/sys/net/core/somaxconn", "r")) {
      if (fscanf(file, "%d", &somaxconn) != 1) somaxconn = -1;
      fclose(file);
    }
    PrintOutcome("legacy", outcome, absl::StrCat("; net.core.somaxconn = ", somaxconn));
    pending_ = outcome.pending;
    return absl::OkStatus();
  }
};

// ---------------------------------------------------------------------------------------

bench::Comparison PingPong(std::string name, std::string description, int peer_cpu,
                           PingPongShape shape) {
  return {std::move(name), std::move(description), std::make_unique<ImcPingPong>(peer_cpu, shape),
          std::make_unique<RawPingPong>(peer_cpu, shape)};
}

std::vector<bench::Comparison> MakeComparisons(const bench::Placement& placement) {
  const int peer = placement.peer_cpu;
  std::vector<bench::Comparison> comparisons;
  comparisons.push_back({"connect_accept",
                         "in one process: SocketAddress::Connect (not "
                         "waiting), BoundSocket::Accept, 64 bytes "
                         "from the connector, the same back from the acceptor, "
                         "both ends closed; vs a "
                         "SOCK_SEQPACKET socket listening at an abstract name: "
                         "socket + connect, accept4, the "
                         "same round trip with sendmsg/recvmsg, both closes",
                         std::make_unique<ImcConnectAccept>(),
                         std::make_unique<LegacyConnectAccept>()});
  comparisons.push_back({"connect_accept_confirmed",
                         "Connect with wait_for_accept (returns once the "
                         "acceptor took the request), 64 bytes "
                         "and their echo, our end closed; the acceptor "
                         "(Accept, echo, close) is a forked "
                         "process on its own CPU; vs socket + connect, the "
                         "same round trip, close, against "
                         "accept4 in the same kind of process",
                         std::make_unique<ImcRemoteConnectAccept>(peer, true),
                         std::make_unique<LegacyRemoteConnectAccept>(peer)});
  comparisons.push_back({"connect_accept_2proc",
                         "connect_accept_confirmed without waiting for the "
                         "acceptance: Connect returns once the "
                         "request is queued; the same legacy baseline",
                         std::make_unique<ImcRemoteConnectAccept>(peer, false),
                         std::make_unique<LegacyRemoteConnectAccept>(peer)});
  comparisons.push_back(PingPong("msg_rtt_64B",
                                 "one round trip of 64 user bytes to a forked echo process on "
                                 "its own CPU: "
                                 "ConnectedSocket::Send/Receive vs sendmsg/recvmsg on a raw "
                                 "SOCK_SEQPACKET socketpair",
                                 peer, {kSmallMessageBytes}));
  comparisons.push_back(
      PingPong("msg_rtt_64KiB", "msg_rtt_64B with 64 KiB each way", peer, {kLargeMessageBytes}));
  comparisons.push_back(PingPong("msg_1desc_rtt",
                                 "msg_rtt_64B carrying one HostIo descriptor (a pipe end) each "
                                 "way: the echo process "
                                 "sends back the fd it received and closes it, and so do we; vs "
                                 "the same fds with "
                                 "SCM_RIGHTS",
                                 peer, {kSmallMessageBytes, imc::DescriptorKind::kHostIo, 1}));
  comparisons.push_back(PingPong("msg_8desc_rtt",
                                 "msg_1desc_rtt with 8 HostIo descriptors (8 pipe ends) each way",
                                 peer, {kSmallMessageBytes, imc::DescriptorKind::kHostIo, 8}));
  comparisons.push_back(
      PingPong("msg_8addr_rtt",
               "msg_8desc_rtt with 8 SocketAddress descriptors, which the receiver "
               "checks (one "
               "getsockopt(SO_TYPE) each); the raw baseline checks nothing",
               peer, {kSmallMessageBytes, imc::DescriptorKind::kSocketAddress, 8}));
  bench::Comparison pending = {
      "pending_connections",
      absl::StrCat("a count, measured once per run: connections queued on one "
                   "bound socket, none "
                   "accepted (nonblocking Connect until EAGAIN or a cap of ",
                   kPendingConnectionCap,
                   "), vs nonblocking connect to a socket listening with "
                   "backlog INT_MAX until EAGAIN "
                   "(the kernel caps the backlog at net.core.somaxconn); the "
                   "connections are held by "
                   "connector processes within RLIMIT_NOFILE; stderr says what "
                   "stopped each side"),
      std::make_unique<ImcPendingConnections>(), std::make_unique<LegacyPendingConnections>()};
  pending.unit = "connections";
  pending.iterations = 1;
  comparisons.push_back(std::move(pending));
  return comparisons;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::BenchMain(argc, argv,
                          {"imc_bench",
                           "Measures the host IMC library (imc/) against the legacy way of doing "
                           "the same work\n"
                           "with system calls (AF_UNIX sockets listening at abstract names, raw "
                           "SOCK_SEQPACKET\n"
                           "socketpairs with sendmsg/recvmsg and SCM_RIGHTS), in the same run. "
                           "Figures are\n"
                           "nanoseconds per operation, except pending_connections (a count)."},
                          MakeComparisons);
}
