#include "tools/bench/imc_bench_connect.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <memory>
#include <optional>
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

// --- connect_accept: both ends in this process ---------------------------------------------------

// One connection per iteration: Connect, Accept, a small message from the connector, the same bytes
// back from the acceptor, and both ends closed. With `first_message_in_request` the small message
// rides in the connection request (ConnectAndSend); otherwise Connect() and then Send().
class ImcConnectAccept : public bench::Workload {
 public:
  explicit ImcConnectAccept(bool first_message_in_request)
      : first_message_in_request_(first_message_in_request) {}

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
      std::optional<imc::ConnectedSocket> connector;
      if (first_message_in_request_) {
        ASSIGN_OR_RETURN(connector, address_->ConnectAndSend(Message(&request, 1)));
      } else {
        ASSIGN_OR_RETURN(connector, address_->Connect());
      }
      ASSIGN_OR_RETURN(imc::ConnectedSocket acceptor, bound_->Accept());
      if (!first_message_in_request_) RETURN_IF_ERROR(connector->Send(Message(&request, 1)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage received, acceptor.Receive({&buffer, 1}, 0));
      iovec reply = {buffer_, received.bytes};
      RETURN_IF_ERROR(acceptor.Send(Message(&reply, 1)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage replied, connector->Receive({&buffer, 1}, 0));
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
  const bool first_message_in_request_;
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

// Per iteration: Connect (waiting for the acceptance if `confirmed`) with a small message in the
// request (ConnectAndSend), its echo from the acceptor process, and our end closed.
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
      ASSIGN_OR_RETURN(imc::ConnectedSocket connector,
                       address_->ConnectAndSend(Message(&request, 1), options_));
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

}  // namespace

std::vector<bench::Comparison> ConnectComparisons(const bench::Placement& placement) {
  const int peer = placement.peer_cpu;
  std::vector<bench::Comparison> comparisons;
  comparisons.push_back({"connect_accept",
                         "in one process: SocketAddress::ConnectAndSend (not waiting) with 64 "
                         "bytes in the request, BoundSocket::Accept, Receive of those bytes, the "
                         "same back from the acceptor, both ends closed; vs a SOCK_SEQPACKET "
                         "socket listening at an abstract name: socket + connect, accept4, the "
                         "same round trip with sendmsg/recvmsg, both closes",
                         std::make_unique<ImcConnectAccept>(true),
                         std::make_unique<LegacyConnectAccept>()});
  comparisons.push_back({"connect_accept_send_after",
                         "connect_accept with Connect() and then Send() of the 64 bytes (a "
                         "plain request: one more sendmsg and recvmsg); the same legacy baseline",
                         std::make_unique<ImcConnectAccept>(false),
                         std::make_unique<LegacyConnectAccept>()});
  comparisons.push_back(
      {"connect_accept_confirmed",
       "ConnectAndSend with wait_for_accept (returns once the acceptor took "
       "the request), 64 bytes in the request and their echo, our end closed; the acceptor "
       "(Accept, echo, close) is a forked process on its own CPU; vs socket + "
       "connect, the same round trip, close, against accept4 in the same kind "
       "of process",
       std::make_unique<ImcRemoteConnectAccept>(peer, true),
       std::make_unique<LegacyRemoteConnectAccept>(peer)});
  comparisons.push_back({"connect_accept_2proc",
                         "connect_accept_confirmed without waiting for the acceptance: Connect "
                         "returns once the request is queued; the same legacy baseline",
                         std::make_unique<ImcRemoteConnectAccept>(peer, false),
                         std::make_unique<LegacyRemoteConnectAccept>(peer)});
  return comparisons;
}

}  // namespace imc_bench
