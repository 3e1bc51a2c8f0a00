// libFuzzer target: the input plays the far end of an imported channel. A real peer socket
// (one end of a socketpair) sends what the input says: well-formed and malformed IMC
// messages, connection requests, raw bytes, packets cut short or too long, floods, with
// control messages carrying SCM_RIGHTS fds of every kind (pipes, sealed and unsealed memfds,
// sockets of every family and type, eventfds, /dev/null, directories, O_PATH fds, the
// channel's own ends) and SCM_CREDENTIALS, to a receiver that may have SO_PASSCRED or
// SO_PASSPIDFD set. The receiver is one of four:
//   0: imc::ConnectedSocket::Receive (an embedder's -i channel),
//   1: imc::BoundSocket::Accept (the peer holds the address side), then Receive on what it
//      accepted,
//   2: ConnectedSocketDescriptor::ReceiveMessage, whose descriptors go through FromIncoming
//      into a DescriptorTable (what a module's imc_recvmsg does),
//   3: BoundSocketDescriptor::Accept into the table, then ReceiveMessage on what it accepted.
// It lives in syscalls/ because modes 2 and 3 run FromIncoming and the table; modes 0 and 1
// cover the imc layer alone, so a crash there is told apart from one in the conversion.
//
// Whatever the input, nothing may crash or block (every receive is nonblocking), and after
// each input this process's fds and threads are back to what they were before it, and its
// RSS stays within kRssSlackBytes of what it was after the first input.
//
// Set PEER_FUZZER_TRACE=1 to print every operation and its result.
//
// Program format (every read past the end of the input yields zeroes):
//   byte 0: bits 0-1 the receiver (above), bit 2 SO_PASSCRED on the receiving socket, bit 3
//   SO_PASSPIDFD on it.
//   then up to kMaxOps operations, one opcode byte each followed by its operands.
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "imc/bound_socket.h"
#include "imc/message_socket.h"
#include "imc/wire_format.h"
#include "syscalls/call_context.h"
#include "syscalls/descriptor.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/descriptor_types.h"
#include "syscalls/fuzz_input.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif

namespace syscalls {
namespace {

constexpr size_t kMaxOps = 48;
constexpr int kMaxFloodPackets = 2048;
constexpr size_t kMaxConnections = 8;
// How much RSS may grow over the first input's figure before the fuzzer calls it a leak
// (allocator caches and ASan's quarantine keep some memory after every input).
constexpr long kRssSlackBytes = 512L << 20;

bool Tracing() {
  static const bool tracing = getenv("PEER_FUZZER_TRACE") != nullptr;
  return tracing;
}

void Trace(const char* what, const absl::Status& status) {
  if (Tracing()) fprintf(stderr, "peer_fuzzer: %s: %s\n", what, status.ToString().c_str());
}

// A fresh fd of the kind `kind` names (any value: taken modulo the kinds), or -1 where the
// host cannot make one (vsock without the module, for example). `keep` receives the fds the
// caller must close once the fd is sent (the returned fd is among them).
int MakeFd(uint8_t kind, const std::vector<base::UniqueFd>& peers,
           std::vector<base::UniqueFd>* keep) {
  auto kept = [keep](int fd) {
    if (fd >= 0) keep->emplace_back(fd);
    return fd;
  };
  int pair[2];
  switch (kind % 24) {
    case 0:
    case 1:
      if (pipe2(pair, O_CLOEXEC) != 0) return -1;
      kept(pair[0]);
      kept(pair[1]);
      return pair[kind % 2];
    case 2:
    case 3: {
      const int fd = kept(memfd_create("peer_fuzzer", MFD_CLOEXEC | MFD_ALLOW_SEALING));
      if (fd < 0) return -1;
      if (ftruncate(fd, 4096) != 0) return fd;
      if (kind % 24 == 3) {
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
      }
      return fd;
    }
    case 4:
      return kept(memfd_create("peer_fuzzer_empty", MFD_CLOEXEC));
    case 5:
    case 6:
    case 7: {
      static constexpr int kTypes[] = {SOCK_SEQPACKET, SOCK_STREAM, SOCK_DGRAM};
      if (socketpair(AF_UNIX, kTypes[kind % 24 - 5] | SOCK_CLOEXEC, 0, pair) != 0) return -1;
      kept(pair[0]);
      kept(pair[1]);
      return pair[0];
    }
    case 8: {
      // A listening AF_UNIX SEQPACKET socket (autobind: an abstract address).
      const int fd = kept(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
      if (fd < 0) return -1;
      sockaddr_un address = {};
      address.sun_family = AF_UNIX;
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(sa_family_t));
      listen(fd, 1);
      return fd;
    }
    case 9:
      return kept(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));  // Never connected.
    case 10:
      return kept(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    case 11:
      return kept(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    case 12:
      return kept(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    case 13:
      return kept(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    case 14:
      return kept(socket(AF_VSOCK, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    case 15:
      return kept(eventfd(0, EFD_CLOEXEC));
    case 16:
      return kept(open("/dev/null", O_RDWR | O_CLOEXEC));
    case 17:
      return kept(open("/dev/null", O_RDONLY | O_CLOEXEC));
    case 18:
      return kept(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    case 19:
      return kept(open("/", O_PATH | O_CLOEXEC));
    case 20:
      return kept(open("/dev/null", O_PATH | O_CLOEXEC));
    case 21: {
      // A real IMC address: the request may connect to a bound socket nobody accepts on.
      absl::StatusOr<std::pair<imc::BoundSocket, imc::SocketAddress>> bound =
          imc::MakeBoundSocket({.max_pending = 16});
      if (!bound.ok()) return -1;
      kept(dup(bound->first.fd()));
      return kept(fcntl(bound->second.fd(), F_DUPFD_CLOEXEC, 0));
    }
    default:
      // The peer's own sockets, sent through themselves or each other (cycles in flight).
      if (peers.empty()) return -1;
      return kept(fcntl(peers[kind % peers.size()].get(), F_DUPFD_CLOEXEC, 0));
  }
}

// Sends one packet of `bytes` with `fds` and optionally SCM_CREDENTIALS, nonblocking.
absl::Status SendPacket(int socket_fd, absl::Span<const uint8_t> bytes, absl::Span<const int> fds,
                        bool credentials) {
  iovec iov = {const_cast<uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<uint8_t> control(CMSG_SPACE(fds.size() * sizeof(int)) + CMSG_SPACE(sizeof(ucred)));
  size_t used = 0;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (!fds.empty()) {
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
    used += CMSG_SPACE(fds.size() * sizeof(int));
    cmsg = CMSG_NXTHDR(&msg, cmsg);
  }
  if (credentials && cmsg != nullptr) {
    ucred cred = {getpid(), getuid(), getgid()};
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_CREDENTIALS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(cred));
    memcpy(CMSG_DATA(cmsg), &cred, sizeof(cred));
    used += CMSG_SPACE(sizeof(cred));
  }
  msg.msg_controllen = used;
  if (used == 0) msg.msg_control = nullptr;
  if (sendmsg(socket_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    return absl::UnknownError(strerror(errno));
  }
  return absl::OkStatus();
}

class Program {
 public:
  explicit Program(FuzzInput input) : input_(input) {
    const uint8_t setup = input_.Byte();
    mode_ = setup & 3;
    int pair[2];
    if (mode_ == 0 || mode_ == 2) {
      if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) abort();
      peers_.emplace_back(pair[1]);
      SetReceiverOptions(pair[0], setup);
      absl::StatusOr<imc::ConnectedSocket> socket =
          imc::ConnectedSocket::FromHostSocket(base::UniqueFd(pair[0]));
      if (!socket.ok()) abort();
      if (mode_ == 0) {
        connections_.push_back(std::move(*socket));
      } else {
        descriptors_.push_back(std::make_shared<ConnectedSocketDescriptor>(std::move(*socket)));
      }
    } else {
      absl::StatusOr<std::pair<imc::BoundSocket, imc::SocketAddress>> bound =
          imc::MakeBoundSocket({.max_pending = 64});
      if (!bound.ok()) abort();
      SetReceiverOptions(bound->first.fd(), setup);
      peers_.emplace_back(fcntl(bound->second.fd(), F_DUPFD_CLOEXEC, 0));
      if (mode_ == 1) {
        bound_.emplace(std::move(bound->first));
      } else {
        bound_descriptor_ = std::make_shared<BoundSocketDescriptor>(std::move(bound->first));
      }
    }
    context_.table = &table_;
  }

  void Run() {
    for (size_t op = 0; op < kMaxOps && !input_.empty(); ++op) {
      const uint8_t opcode = input_.Byte();
      switch (opcode % 8) {
        case 0:
        case 1:
          Send(PickPeer(opcode >> 3), input_.Byte());
          break;
        case 2:
          Flood(PickPeer(opcode >> 3));
          break;
        case 3:
        case 4:
          Receive(opcode >> 3, ReceiveRoom(), input_.Byte() % 12);
          break;
        case 5:
          Accept();
          break;
        case 6:
          ClosePeer(opcode >> 3);
          break;
        case 7:
          // A receive on every connection and an accept, several times over.
          for (int round = 0; round < (opcode >> 3) % 8 + 1; ++round) {
            for (size_t c = 0; c < ConnectionCount(); ++c) Receive(c, 256, 8);
            Accept();
          }
          break;
      }
    }
    // Drain what is left, bounded: every receiver either empties or fails.
    for (int round = 0; round < 64; ++round) {
      for (size_t c = 0; c < ConnectionCount(); ++c) Receive(c, imc::kMaxUserBytes, 8);
      Accept();
    }
  }

 private:
  static void SetReceiverOptions(int fd, uint8_t setup) {
    const int one = 1;
    if (setup & 4) setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
    if (setup & 8) setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof(one));
  }

  size_t ConnectionCount() const { return mode_ < 2 ? connections_.size() : descriptors_.size(); }

  int PickPeer(uint8_t selector) {
    if (peers_.empty()) return -1;
    return peers_[selector % peers_.size()].get();
  }

  size_t ReceiveRoom() {
    switch (input_.Byte() % 6) {
      case 0:
        return 0;
      case 1:
        return 1;
      case 2:
        return input_.Byte();
      case 3:
        return input_.U16();
      case 4:
        return imc::kMaxUserBytes;
      default:
        return imc::kMaxUserBytes + 1;
    }
  }

  // The packet's bytes: a well-formed header with fuzzed fields, a connection request, a
  // valid message, raw bytes, or a long packet of zeroes.
  std::vector<uint8_t> PacketBytes(uint8_t shape, size_t fd_count) {
    std::vector<uint8_t> bytes;
    switch (shape % 6) {
      case 0: {  // A header from the input, then a payload.
        imc::WireHeader header;
        memset(&header, 0, sizeof(header));
        const uint8_t fields = input_.Byte();
        header.version = fields & 1 ? input_.Byte() : imc::kWireVersion;
        header.packet_kind = fields & 2 ? input_.Byte() : 0;
        header.descriptor_count = fields & 4 ? input_.Byte() : static_cast<uint8_t>(fd_count);
        header.flags = fields & 8 ? input_.Byte() : 0;
        const size_t payload = input_.Byte();
        header.byte_count = fields & 16 ? input_.U32() : static_cast<uint32_t>(payload);
        for (uint8_t& tag : header.tags) tag = input_.Byte();
        bytes.resize(sizeof(header) + payload);
        memcpy(bytes.data(), &header, sizeof(header));
        return bytes;
      }
      case 1:  // A connection request's byte (valid with one connected SEQPACKET fd).
        return {'c'};
      case 2: {  // Tags of the kinds the fds claim to be.
        std::vector<imc::WireTag> tags;
        for (size_t i = 0; i < std::min(fd_count, imc::kMaxDescriptors); ++i) {
          const uint8_t tag = input_.Byte();
          tags.push_back(imc::WireTag(static_cast<imc::DescriptorKind>(1 + tag % 4),
                                      static_cast<imc::HostIoAccess>(tag >> 2 & 3)));
        }
        const size_t payload = input_.Byte();
        imc::WireHeader header =
            imc::MakeWireHeader(imc::PacketKind::kMessage, static_cast<uint32_t>(payload), tags);
        header.flags = shape & 0x80 ? imc::kFlagFromAcceptor : 0;
        bytes.resize(sizeof(header) + payload);
        memcpy(bytes.data(), &header, sizeof(header));
        return bytes;
      }
      case 3: {  // Raw bytes.
        absl::Span<const uint8_t> raw = input_.Bytes(input_.Byte());
        return std::vector<uint8_t>(raw.begin(), raw.end());
      }
      case 4: {  // An acknowledgement.
        imc::WireHeader header = imc::MakeWireHeader(imc::PacketKind::kAcceptAck, 0, {});
        bytes.resize(sizeof(header));
        memcpy(bytes.data(), &header, sizeof(header));
        return bytes;
      }
      default: {  // Longer than any message may be.
        imc::WireHeader header =
            imc::MakeWireHeader(imc::PacketKind::kMessage, imc::kMaxUserBytes + 1, {});
        bytes.resize(sizeof(header) + imc::kMaxUserBytes + 1 + input_.Byte());
        memcpy(bytes.data(), &header, sizeof(header));
        return bytes;
      }
    }
  }

  // One packet from the input: its fds (0-12, of kinds the input names), credentials or not.
  void Send(int peer, uint8_t shape) {
    if (peer < 0) return;
    const uint8_t fd_spec = input_.Byte();
    const size_t fd_count = (fd_spec & 0x0f) % 13;
    std::vector<base::UniqueFd> keep;
    std::vector<int> fds;
    for (size_t i = 0; i < fd_count; ++i) {
      const int fd = MakeFd(input_.Byte(), peers_, &keep);
      if (fd >= 0) fds.push_back(fd);
    }
    if ((shape % 6) == 1 && (fd_spec & 0x80)) {
      // A valid connection request: one connected SEQPACKET end; the peer keeps the other.
      int pair[2];
      if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0) {
        fds.assign(1, pair[0]);
        keep.emplace_back(pair[0]);
        if (peers_.size() < kMaxConnections) {
          peers_.emplace_back(pair[1]);
        } else {
          keep.emplace_back(pair[1]);
        }
      }
    }
    const std::vector<uint8_t> bytes = PacketBytes(shape, fds.size());
    Trace("send", SendPacket(peer, bytes, fds, fd_spec & 0x40));
  }

  // The same packet (with fresh copies of its fds each time) until the socket is full.
  void Flood(int peer) {
    if (peer < 0) return;
    const int count = 1 + input_.U16() % kMaxFloodPackets;
    const uint8_t shape = input_.Byte();
    const uint8_t fd_kind = input_.Byte();
    const bool with_fd = fd_kind & 0x80;
    const std::vector<uint8_t> bytes = PacketBytes(shape, with_fd ? 1 : 0);
    int sent = 0;
    for (; sent < count; ++sent) {
      std::vector<base::UniqueFd> keep;
      std::vector<int> fds;
      if (with_fd) {
        const int fd = MakeFd(fd_kind, peers_, &keep);
        if (fd >= 0) fds.push_back(fd);
      }
      if (!SendPacket(peer, bytes, fds, false).ok()) break;
    }
    if (Tracing()) fprintf(stderr, "peer_fuzzer: flood: %d of %d sent\n", sent, count);
  }

  void ClosePeer(uint8_t selector) {
    if (peers_.empty()) return;
    const size_t i = selector % peers_.size();
    if (selector & 0x10) {
      shutdown(peers_[i].get(), SHUT_WR);
    } else {
      peers_.erase(peers_.begin() + static_cast<long>(i));
    }
  }

  void Receive(size_t selector, size_t room, size_t max_descriptors) {
    const size_t count = ConnectionCount();
    if (count == 0) return;
    const size_t c = selector % count;
    std::vector<uint8_t> buffer(room);
    if (mode_ < 2) {
      iovec iov = {buffer.data(), buffer.size()};
      imc::WaitOptions wait;
      wait.nonblocking = true;
      wait.max_skipped_packets = 16;
      absl::StatusOr<imc::ReceivedMessage> received =
          connections_[c].Receive({&iov, 1}, max_descriptors, wait);
      Trace("imc receive", received.status());
      if (!received.ok()) return;
      for (const imc::IncomingDescriptor& descriptor : received->descriptors) {
        if (descriptor.kind != imc::DescriptorKind::kInvalid && descriptor.fd.get() < 0) abort();
      }
      return;
    }
    context_.nonblocking_attempt = true;
    absl::StatusOr<ReceivedImcMessage> received =
        descriptors_[c]->ReceiveMessage(context_, absl::MakeSpan(buffer), max_descriptors, true);
    Trace("syscalls receive", received.status());
    if (!received.ok()) return;
    if (received->bytes > room) abort();
    for (DescriptorRef& descriptor : received->descriptors) {
      if (descriptor == nullptr) continue;
      (void)descriptor->Stat();
      const int d = table_.Install(std::move(descriptor));
      if (d >= 0 && (d & 1)) table_.Close(d);
    }
  }

  void Accept() {
    if (ConnectionCount() >= kMaxConnections) return;
    if (mode_ == 1) {
      imc::WaitOptions wait;
      wait.nonblocking = true;
      wait.max_skipped_packets = 16;
      absl::StatusOr<imc::ConnectedSocket> accepted = bound_->Accept(wait);
      Trace("imc accept", accepted.status());
      if (accepted.ok()) connections_.push_back(std::move(*accepted));
    } else if (mode_ == 3) {
      context_.nonblocking_attempt = true;
      absl::StatusOr<DescriptorRef> accepted = bound_descriptor_->Accept(context_);
      Trace("syscalls accept", accepted.status());
      if (accepted.ok() && *accepted != nullptr) {
        if ((*accepted)->kind() != imc::DescriptorKind::kConnectedSocket) abort();
        table_.Install(*accepted);
        descriptors_.push_back(std::move(*accepted));
      }
    }
  }

  FuzzInput input_;
  int mode_ = 0;
  std::vector<base::UniqueFd> peers_;
  // Modes 0 and 1.
  absl::optional<imc::BoundSocket> bound_;
  std::vector<imc::ConnectedSocket> connections_;
  // Modes 2 and 3.
  DescriptorTable table_;
  CallContext context_;
  DescriptorRef bound_descriptor_;
  std::vector<DescriptorRef> descriptors_;
};

// The "Threads:" line of /proc/self/status, or -1.
int CountThreads() {
  FILE* f = fopen("/proc/self/status", "re");
  if (f == nullptr) return -1;
  char line[256];
  int threads = -1;
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (sscanf(line, "Threads: %d", &threads) == 1) break;
  }
  fclose(f);
  return threads;
}

long RssBytes() {
  FILE* f = fopen("/proc/self/statm", "re");
  if (f == nullptr) return -1;
  long size = 0;
  long resident = 0;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

}  // namespace
}  // namespace syscalls

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static long first_rss = -1;
  const int fds_before = base::CountOpenFds();
  const int threads_before = syscalls::CountThreads();
  {
    syscalls::Program program(syscalls::FuzzInput({data, size}));
    program.Run();
  }
  const int fds_after = base::CountOpenFds();
  if (fds_after != fds_before) {
    fprintf(stderr, "peer_fuzzer: %d fds before the input, %d after: %s\n", fds_before, fds_after,
            base::DescribeOpenFds().c_str());
    abort();
  }
  const int threads_after = syscalls::CountThreads();
  if (threads_after != threads_before) {
    fprintf(stderr, "peer_fuzzer: %d threads before the input, %d after\n", threads_before,
            threads_after);
    abort();
  }
  const long rss = syscalls::RssBytes();
  if (first_rss < 0) first_rss = rss;
  if (rss > first_rss + syscalls::kRssSlackBytes) {
    fprintf(stderr, "peer_fuzzer: RSS %ld bytes, %ld after the first input\n", rss, first_rss);
    abort();
  }
  return 0;
}
