// imc_bench: the host IMC library (imc/) against the same work done directly with system
// calls on raw SOCK_SEQPACKET socketpairs, measured in the same run. See --help, and
// bench_runner.h for how figures are measured.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
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

namespace {

constexpr size_t kSmallMessageBytes = 64;
constexpr size_t kBulkMessageBytes = imc::kMaxUserBytes;  // 128 KiB.
static_assert(kBulkMessageBytes == 128 * 1024, "bulk_128KiB is named after its size");

constexpr char kConnectRequest = 'c';

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

absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> RawSocketPair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return Errno("socketpair");
  }
  return std::make_pair(base::UniqueFd(fds[0]), base::UniqueFd(fds[1]));
}

// Both ends of one IMC connection in this process, made the way an embedder makes them
// (MakeBoundSocket, Connect, Accept), with the accept acknowledgement already consumed so
// that no timed Receive() pays for it.
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

// A forked process that serves the other end of a ping-pong; Wait() reaps it.
class PeerProcess {
 public:
  PeerProcess() = default;
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;
  ~PeerProcess() { (void)Wait(); }

  // Forks a child that dies with this process, runs on `cpu` (-1: anywhere), keeps no fd
  // but stdio and `keep_fd` (so that it holds no copy of any other socket end, whose close
  // would then go unnoticed), and _exits with the code `body` returns.
  absl::Status Start(int keep_fd, int cpu, const std::function<int()>& body) {
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return Errno("fork");
    if (pid == 0) {
      // This process is single-threaded, so the child may allocate; it must not return into
      // the parent's code nor flush the parent's stdio buffers, hence _exit.
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(120);
      if (!bench::PinToCpu(cpu).ok()) _exit(121);
      if (keep_fd > 3) close_range(3, keep_fd - 1, 0);
      close_range(keep_fd + 1, ~0U, 0);
      _exit(body());
    }
    pid_ = pid;
    return absl::OkStatus();
  }

  // Waits for the child; an error unless it exited with status 0.
  absl::Status Wait() {
    if (pid_ < 0) return absl::OkStatus();
    int status;
    pid_t reaped;
    do {
      reaped = waitpid(pid_, &status, 0);
    } while (reaped < 0 && errno == EINTR);
    if (reaped < 0) return Errno("waitpid");
    pid_ = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
    if (WIFSIGNALED(status)) {
      return absl::InternalError(absl::StrCat("peer killed by signal ", WTERMSIG(status)));
    }
    return absl::InternalError(absl::StrCat("peer exited with status ", WEXITSTATUS(status)));
  }

 private:
  pid_t pid_ = -1;
};

// --- message_ping_pong_64B -------------------------------------------------------------

// The peer of ImcPingPong: echoes each message until the connection closes.
int ImcEcho(const imc::ConnectedSocket& socket) {
  char buffer[kSmallMessageBytes];
  iovec in = {buffer, sizeof(buffer)};
  for (;;) {
    absl::StatusOr<imc::ReceivedMessage> message = socket.Receive({&in, 1}, 0);
    if (!message.ok()) return base::ErrnoOf(message.status()) == EPIPE ? 0 : 1;
    iovec out = {buffer, message->bytes};
    if (!socket.Send(Message(&out, 1)).ok()) return 2;
  }
}

class ImcPingPong : public bench::Workload {
 public:
  explicit ImcPingPong(int peer_cpu) : peer_cpu_(peer_cpu) {}

  absl::Status SetUp() override {
    {
      ASSIGN_OR_RETURN(Connection connection, MakeConnection());
      const imc::ConnectedSocket& acceptor = connection.acceptor;
      RETURN_IF_ERROR(peer_.Start(acceptor.fd(), peer_cpu_, [&] { return ImcEcho(acceptor); }));
      socket_.emplace(std::move(connection.connector));
    }  // Our copy of the peer's end closes here.
    memset(buffer_, 'p', sizeof(buffer_));
    return Run(1);
  }

  absl::Status Run(int64_t iterations) override {
    iovec data = {buffer_, sizeof(buffer_)};
    for (int64_t i = 0; i < iterations; ++i) {
      RETURN_IF_ERROR(socket_->Send(Message(&data, 1)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage reply, socket_->Receive({&data, 1}, 0));
      if (reply.bytes != sizeof(buffer_)) return Unexpected("reply size");
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    socket_.reset();  // The peer sees the end of the stream and exits.
    return peer_.Wait();
  }

 private:
  const int peer_cpu_;
  std::optional<imc::ConnectedSocket> socket_;
  PeerProcess peer_;
  char buffer_[kSmallMessageBytes];
};

// The peer of RawPingPong: echoes each packet until the connection closes.
int RawEcho(int fd) {
  char buffer[kSmallMessageBytes];
  for (;;) {
    ssize_t received = recv(fd, buffer, sizeof(buffer), 0);
    if (received == 0) return 0;  // The baseline never sends an empty packet: end of stream.
    if (received < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (send(fd, buffer, static_cast<size_t>(received), MSG_NOSIGNAL) != received) return 2;
  }
}

class RawPingPong : public bench::Workload {
 public:
  explicit RawPingPong(int peer_cpu) : peer_cpu_(peer_cpu) {}

  absl::Status SetUp() override {
    {
      ASSIGN_OR_RETURN(auto ends, RawSocketPair());
      const int peer_fd = ends.second.get();
      RETURN_IF_ERROR(peer_.Start(peer_fd, peer_cpu_, [peer_fd] { return RawEcho(peer_fd); }));
      fd_ = std::move(ends.first);
    }  // Our copy of the peer's end closes here.
    memset(buffer_, 'p', sizeof(buffer_));
    return Run(1);
  }

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) {
      if (send(fd_.get(), buffer_, sizeof(buffer_), MSG_NOSIGNAL) != sizeof(buffer_)) {
        return Errno("send");
      }
      ssize_t received = recv(fd_.get(), buffer_, sizeof(buffer_), 0);
      if (received < 0) return Errno("recv");
      if (received != sizeof(buffer_)) return Unexpected("reply size");
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    fd_.reset();
    return peer_.Wait();
  }

 private:
  const int peer_cpu_;
  base::UniqueFd fd_;
  PeerProcess peer_;
  char buffer_[kSmallMessageBytes];
};

// --- message_64B ---------------------------------------------------------------------

// One process sends and receives: the library's own cost per message, without the
// scheduler's wake-ups that dominate a ping-pong.
class ImcMessage : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(Connection connection, MakeConnection());
    connection_.emplace(std::move(connection));
    memset(buffer_, 'm', sizeof(buffer_));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    iovec data = {buffer_, sizeof(buffer_)};
    for (int64_t i = 0; i < iterations; ++i) {
      RETURN_IF_ERROR(connection_->connector.Send(Message(&data, 1)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage message, connection_->acceptor.Receive({&data, 1}, 0));
      if (message.bytes != sizeof(buffer_)) return Unexpected("message size");
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    connection_.reset();
    return absl::OkStatus();
  }

 private:
  std::optional<Connection> connection_;
  char buffer_[kSmallMessageBytes];
};

class RawMessage : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(ends_, RawSocketPair());
    memset(buffer_, 'm', sizeof(buffer_));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) {
      if (send(ends_.first.get(), buffer_, sizeof(buffer_), MSG_NOSIGNAL) != sizeof(buffer_)) {
        return Errno("send");
      }
      ssize_t received = recv(ends_.second.get(), buffer_, sizeof(buffer_), 0);
      if (received < 0) return Errno("recv");
      if (received != sizeof(buffer_)) return Unexpected("message size");
    }
    return absl::OkStatus();
  }

 private:
  std::pair<base::UniqueFd, base::UniqueFd> ends_;
  char buffer_[kSmallMessageBytes];
};

// --- message_with_fd -------------------------------------------------------------------

// Both sides send the write end of one pipe: a plain host fd.
absl::StatusOr<base::UniqueFd> MakePipeEnd(base::UniqueFd* read_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Errno("pipe2");
  read_end->reset(fds[0]);
  return base::UniqueFd(fds[1]);
}

class ImcMessageWithFd : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(Connection connection, MakeConnection());
    connection_.emplace(std::move(connection));
    ASSIGN_OR_RETURN(pipe_write_, MakePipeEnd(&pipe_read_));
    memset(buffer_, 'd', sizeof(buffer_));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    iovec data = {buffer_, sizeof(buffer_)};
    const imc::OutgoingDescriptor descriptor = {imc::DescriptorKind::kHostIo, pipe_write_.get()};
    for (int64_t i = 0; i < iterations; ++i) {
      RETURN_IF_ERROR(connection_->connector.Send(Message(&data, 1, {&descriptor, 1})));
      ASSIGN_OR_RETURN(imc::ReceivedMessage message, connection_->acceptor.Receive({&data, 1}, 1));
      if (message.bytes != sizeof(buffer_) || message.descriptors.size() != 1 ||
          !message.descriptors[0].fd.valid()) {
        return Unexpected("message");
      }
      // The received fd is closed with `message`.
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    connection_.reset();
    return absl::OkStatus();
  }

 private:
  std::optional<Connection> connection_;
  base::UniqueFd pipe_read_;
  base::UniqueFd pipe_write_;
  char buffer_[kSmallMessageBytes];
};

// Sends `size` bytes and one fd in one packet.
absl::Status RawSendWithFd(int socket_fd, const void* data, size_t size, int fd) {
  iovec iov = {const_cast<void*>(data), size};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
  if (sendmsg(socket_fd, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) {
    return Errno("sendmsg");
  }
  return absl::OkStatus();
}

// Receives one packet of up to `size` bytes that must carry exactly one fd, which it closes
// (as the IMC protocol asks: close-on-exec on arrival). Returns the packet's byte count.
absl::StatusOr<size_t> RawReceiveAndCloseFd(int socket_fd, void* buffer, size_t size) {
  iovec iov = {buffer, size};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t received = recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
  if (received < 0) return Errno("recvmsg");
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
      cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
    return Unexpected("control message");
  }
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
  close(fd);
  return static_cast<size_t>(received);
}

class RawMessageWithFd : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(ends_, RawSocketPair());
    ASSIGN_OR_RETURN(pipe_write_, MakePipeEnd(&pipe_read_));
    memset(buffer_, 'd', sizeof(buffer_));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) {
      RETURN_IF_ERROR(
          RawSendWithFd(ends_.first.get(), buffer_, sizeof(buffer_), pipe_write_.get()));
      ASSIGN_OR_RETURN(size_t received,
                       RawReceiveAndCloseFd(ends_.second.get(), buffer_, sizeof(buffer_)));
      if (received != sizeof(buffer_)) return Unexpected("message size");
    }
    return absl::OkStatus();
  }

 private:
  std::pair<base::UniqueFd, base::UniqueFd> ends_;
  base::UniqueFd pipe_read_;
  base::UniqueFd pipe_write_;
  char buffer_[kSmallMessageBytes];
};

// --- connect_accept --------------------------------------------------------------------

class ImcConnectAccept : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(auto bound_and_address, imc::MakeBoundSocket());
    bound_.emplace(std::move(bound_and_address.first));
    address_.emplace(std::move(bound_and_address.second));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) {
      ASSIGN_OR_RETURN(imc::ConnectedSocket connector, address_->Connect());
      ASSIGN_OR_RETURN(imc::ConnectedSocket acceptor, bound_->Accept());
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
};

// The same protocol by hand: a fresh socketpair, one end sent with the byte 'c' through the
// address, received on the bound end, and every end closed.
class RawConnectAccept : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(bound_and_address_, RawSocketPair());
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    const int bound = bound_and_address_.first.get();
    const int address = bound_and_address_.second.get();
    for (int64_t i = 0; i < iterations; ++i) {
      int ends[2];
      if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
        return Errno("socketpair");
      }
      absl::Status sent = RawSendWithFd(address, &kConnectRequest, 1, ends[1]);
      close(ends[1]);
      char request[2];
      absl::StatusOr<size_t> received = RawReceiveAndCloseFd(bound, request, sizeof(request));
      close(ends[0]);
      RETURN_IF_ERROR(sent);
      RETURN_IF_ERROR(received.status());
      if (*received != 1 || request[0] != kConnectRequest) return Unexpected("request");
    }
    return absl::OkStatus();
  }

 private:
  std::pair<base::UniqueFd, base::UniqueFd> bound_and_address_;
};

// --- bulk_128KiB -----------------------------------------------------------------------

class ImcBulk : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(Connection connection, MakeConnection());
    connection_.emplace(std::move(connection));
    out_.assign(kBulkMessageBytes, 'b');
    in_.assign(kBulkMessageBytes, 0);  // Touched now, so that no run pays the page faults.
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    iovec out = {out_.data(), out_.size()};
    iovec in = {in_.data(), in_.size()};
    for (int64_t i = 0; i < iterations; ++i) {
      RETURN_IF_ERROR(connection_->connector.Send(Message(&out, 1)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage message, connection_->acceptor.Receive({&in, 1}, 0));
      if (message.bytes != kBulkMessageBytes) return Unexpected("message size");
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    connection_.reset();
    return absl::OkStatus();
  }

 private:
  std::optional<Connection> connection_;
  std::vector<char> out_;
  std::vector<char> in_;
};

class RawBulk : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(ends_, RawSocketPair());
    out_.assign(kBulkMessageBytes, 'b');
    in_.assign(kBulkMessageBytes, 0);
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) {
      if (send(ends_.first.get(), out_.data(), out_.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(out_.size())) {
        return Errno("send");
      }
      ssize_t received = recv(ends_.second.get(), in_.data(), in_.size(), 0);
      if (received < 0) return Errno("recv");
      if (received != static_cast<ssize_t>(kBulkMessageBytes)) return Unexpected("size");
    }
    return absl::OkStatus();
  }

 private:
  std::pair<base::UniqueFd, base::UniqueFd> ends_;
  std::vector<char> out_;
  std::vector<char> in_;
};

// ---------------------------------------------------------------------------------------

std::vector<bench::Comparison> MakeComparisons(const bench::Placement& placement) {
  std::vector<bench::Comparison> comparisons;
  comparisons.push_back(
      {"message_ping_pong_64B",
       "one round trip of 64 user bytes to a forked echo process (on its own CPU) and "
       "back: ConnectedSocket::Send/Receive vs send/recv on a raw SOCK_SEQPACKET socketpair",
       std::make_unique<ImcPingPong>(placement.peer_cpu),
       std::make_unique<RawPingPong>(placement.peer_cpu)});
  comparisons.push_back(
      {"message_64B",
       "one process sends and receives one message of 64 user bytes (the library's own cost, "
       "without wake-ups): ConnectedSocket vs send/recv on a raw SOCK_SEQPACKET socketpair",
       std::make_unique<ImcMessage>(), std::make_unique<RawMessage>()});
  comparisons.push_back(
      {"message_with_fd",
       "one process sends and receives 64 bytes plus one fd (a pipe end, as HostIo) and "
       "closes the received fd: ConnectedSocket vs sendmsg/recvmsg with one SCM_RIGHTS fd",
       std::make_unique<ImcMessageWithFd>(), std::make_unique<RawMessageWithFd>()});
  comparisons.push_back(
      {"connect_accept",
       "SocketAddress::Connect + BoundSocket::Accept + closing both ends, in one process, vs "
       "the raw protocol: socketpair + sendmsg of one end with 'c' + recvmsg + the closes",
       std::make_unique<ImcConnectAccept>(), std::make_unique<RawConnectAccept>()});
  comparisons.push_back(
      {"bulk_128KiB",
       "one process sends and receives one 128 KiB message: ConnectedSocket vs send/recv of "
       "128 KiB on a raw SOCK_SEQPACKET socketpair",
       std::make_unique<ImcBulk>(), std::make_unique<RawBulk>()});
  return comparisons;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::BenchMain(
      argc, argv,
      {"imc_bench",
       "Measures the host IMC library (imc/) against the same work done with raw system\n"
       "calls on raw AF_UNIX SOCK_SEQPACKET socketpairs, in the same run. Figures are\n"
       "nanoseconds per operation."},
      MakeComparisons);
}
