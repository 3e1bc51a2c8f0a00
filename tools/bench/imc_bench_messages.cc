#include "tools/bench/imc_bench_messages.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

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
#include "tools/bench/imc_bench_sockets.h"
#include "tools/bench/sandbox_bench_process.h"

namespace imc_bench {
namespace {

constexpr size_t kLargeMessageBytes = 64 * 1024;
static_assert(kLargeMessageBytes <= imc::kMaxUserBytes, "msg_rtt_64KiB fits one IMC message");

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

bench::Comparison PingPong(std::string name, std::string description, int peer_cpu,
                           PingPongShape shape) {
  return {std::move(name), std::move(description), std::make_unique<ImcPingPong>(peer_cpu, shape),
          std::make_unique<RawPingPong>(peer_cpu, shape)};
}

}  // namespace

std::vector<bench::Comparison> MessageComparisons(const bench::Placement& placement) {
  const int peer = placement.peer_cpu;
  std::vector<bench::Comparison> comparisons;
  comparisons.push_back(PingPong("msg_rtt_64B",
                                 "one round trip of 64 user bytes to a forked echo process on its "
                                 "own CPU: ConnectedSocket::Send/Receive vs sendmsg/recvmsg on a "
                                 "raw SOCK_SEQPACKET socketpair",
                                 peer, {kSmallMessageBytes}));
  comparisons.push_back(
      PingPong("msg_rtt_64KiB", "msg_rtt_64B with 64 KiB each way", peer, {kLargeMessageBytes}));
  comparisons.push_back(PingPong("msg_1desc_rtt",
                                 "msg_rtt_64B carrying one HostIo descriptor (a pipe end) each "
                                 "way: the echo process sends back the fd it received and closes "
                                 "it, and so do we; vs the same fds with SCM_RIGHTS",
                                 peer, {kSmallMessageBytes, imc::DescriptorKind::kHostIo, 1}));
  comparisons.push_back(PingPong("msg_8desc_rtt",
                                 "msg_1desc_rtt with 8 HostIo descriptors (8 pipe ends) each way",
                                 peer, {kSmallMessageBytes, imc::DescriptorKind::kHostIo, 8}));
  comparisons.push_back(
      PingPong("msg_8addr_rtt",
               "msg_8desc_rtt with 8 SocketAddress descriptors, which the receiver checks (one "
               "getsockopt(SO_TYPE) each); the raw baseline checks nothing",
               peer, {kSmallMessageBytes, imc::DescriptorKind::kSocketAddress, 8}));
  return comparisons;
}

}  // namespace imc_bench
