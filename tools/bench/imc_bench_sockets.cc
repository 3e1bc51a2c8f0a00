#include "tools/bench/imc_bench_sockets.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
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

namespace imc_bench {

absl::Status Errno(const char* what) { return base::ErrnoStatus(errno, what); }

absl::Status Unexpected(const char* what) {
  return absl::InternalError(absl::StrCat("unexpected ", what));
}

imc::OutgoingMessage Message(const iovec* data, size_t iovecs,
                             absl::Span<const imc::OutgoingDescriptor> descriptors) {
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

void RawPacket::CloseFds() const {
  for (size_t i = 0; i < fd_count; ++i) close(fds[i]);
}

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

AbstractName::AbstractName() {
  static int next = 0;
  const std::string name = absl::StrCat("imc_bench.", getpid(), ".", next++);
  address_.sun_family = AF_UNIX;
  address_.sun_path[0] = '\0';  // Abstract: no file, gone with its last socket.
  memcpy(address_.sun_path + 1, name.data(), name.size());
  length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

absl::StatusOr<base::UniqueFd> ListenAt(const AbstractName& name, int backlog) {
  base::UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno("socket");
  if (bind(fd.get(), name.address(), name.length()) != 0) return Errno("bind");
  if (listen(fd.get(), backlog) != 0) return Errno("listen");
  return fd;
}

absl::StatusOr<base::UniqueFd> ConnectTo(const AbstractName& name, int flags) {
  base::UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0));
  if (!fd.valid()) return Errno("socket");
  if (connect(fd.get(), name.address(), name.length()) != 0) return Errno("connect");
  return fd;
}

}  // namespace imc_bench
