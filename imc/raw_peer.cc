#include "imc/raw_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/errno_status.h"

namespace imc {

absl::Status SendRawPacket(int socket_fd, absl::string_view bytes, absl::Span<const int> fds) {
  iovec iov = {const_cast<char*>(bytes.data()), bytes.size()};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  if (sendmsg(socket_fd, &msg, MSG_NOSIGNAL) < 0) return base::ErrnoStatus(errno, "sendmsg");
  return absl::OkStatus();
}

absl::Status SendRawMessage(int socket_fd, const WireHeader& header, absl::string_view payload,
                            absl::Span<const int> fds) {
  std::string packet(reinterpret_cast<const char*>(&header), sizeof(header));
  packet.append(payload.data(), payload.size());
  return SendRawPacket(socket_fd, packet, fds);
}

std::vector<base::UniqueFd> MakePipeEnds(int count) {
  std::vector<base::UniqueFd> ends;
  for (int i = 0; i < count; ++i) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return {};
    close(fds[1]);
    ends.emplace_back(fds[0]);
  }
  return ends;
}

std::vector<int> RawFds(const std::vector<base::UniqueFd>& fds) {
  std::vector<int> raw;
  raw.reserve(fds.size());
  for (const base::UniqueFd& fd : fds) raw.push_back(fd.get());
  return raw;
}

absl::StatusOr<std::pair<ConnectedSocket, ConnectedSocket>> MakeConnectedPair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::InternalError("socketpair failed");
  }
  base::UniqueFd second(fds[1]);
  absl::StatusOr<ConnectedSocket> a = ConnectedSocket::FromHostSocket(base::UniqueFd(fds[0]));
  if (!a.ok()) return a.status();
  absl::StatusOr<ConnectedSocket> b = ConnectedSocket::FromHostSocket(std::move(second));
  if (!b.ok()) return b.status();
  return std::make_pair(*std::move(a), *std::move(b));
}

}  // namespace imc
