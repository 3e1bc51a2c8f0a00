#include "imc/packet.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/status_macros.h"

// Linux 6.5+: a socket with SO_PASSPIDFD receives a pidfd of the sender with every message.
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

namespace imc {
namespace {

constexpr size_t kMaxFdsPerPacket = 8;

// Whoever holds a copy of a socket (a peer that handed one end over and kept it, say) can set
// options on it that make the kernel add control messages to what it receives: SO_PASSCRED
// (SCM_CREDENTIALS), SO_PASSPIDFD (SCM_PIDFD, which installs a pidfd in the receiver), the
// timestamp options. The buffer has room for the largest of these beside kMaxFdsPerPacket
// fds, so that a pidfd arrives where it can be closed; anything beyond still sets MSG_CTRUNC,
// and then the kernel closes or never installs the fds that did not fit.
constexpr size_t kControlBytes =
    CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int)) +  // SCM_PIDFD
    CMSG_SPACE(3 * sizeof(struct timespec)) + CMSG_SPACE(sizeof(int) * kMaxFdsPerPacket);

absl::Status MalformedControl(absl::string_view why) {
  return base::ErrnoStatus(EPROTO, absl::StrCat("malformed packet: ", why));
}

// Takes every fd of every control message of `msg` into `fds` (so that each is closed unless
// kept), then checks that the control data was exactly one SCM_RIGHTS message of at most
// kMaxFdsPerPacket fds, complete. Otherwise EPROTO, and the caller drops `fds`.
absl::Status TakeControlFds(const struct msghdr& msg, absl::InlinedVector<base::UniqueFd, 8>* fds) {
  const char* control_end = static_cast<const char*>(msg.msg_control) + msg.msg_controllen;
  int rights_messages = 0;
  int other_type = -1;
  int other_level = -1;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(const_cast<struct msghdr*>(&msg), cmsg)) {
    const bool carries_fds = cmsg->cmsg_level == SOL_SOCKET &&
                             (cmsg->cmsg_type == SCM_RIGHTS || cmsg->cmsg_type == SCM_PIDFD);
    if (carries_fds) {
      // The kernel shortens a truncated message's cmsg_len to what it wrote; never read past
      // the control data either way.
      const char* data = reinterpret_cast<const char*>(CMSG_DATA(cmsg));
      const char* end = reinterpret_cast<const char*>(cmsg) + cmsg->cmsg_len;
      if (end > control_end) end = control_end;
      for (; data + sizeof(int) <= end; data += sizeof(int)) {
        int fd;
        memcpy(&fd, data, sizeof(fd));
        fds->emplace_back(fd);
      }
    }
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
      ++rights_messages;
    } else if (other_type == -1) {
      other_type = cmsg->cmsg_type;
      other_level = cmsg->cmsg_level;
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    return MalformedControl("more control data than fits (more than 8 fds?)");
  }
  if (other_type != -1) {
    return MalformedControl(absl::StrCat("unexpected control message (level ", other_level,
                                         ", type ", other_type,
                                         "): has a peer set SO_PASSCRED or SO_PASSPIDFD?"));
  }
  if (rights_messages > 1) return MalformedControl("more than one SCM_RIGHTS message");
  if (fds->size() > kMaxFdsPerPacket) return MalformedControl("more than 8 fds");
  return absl::OkStatus();
}

bool IsPeerGoneErrno(int error_number) {
  return error_number == EPIPE || error_number == ECONNRESET || error_number == ENOTCONN ||
         error_number == ECONNREFUSED;
}

// True when the peer closed (or shut down its sending side).
bool PeerGone(int socket_fd) {
  struct pollfd pfd = {socket_fd, POLLRDHUP, 0};
  return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLRDHUP)) != 0;
}

// True when packets with bytes wait in the receive queue.
bool BytesQueued(int socket_fd) {
  int queued = 0;
  return ioctl(socket_fd, SIOCINQ, &queued) == 0 && queued > 0;
}

}  // namespace

absl::Status SendPacket(int socket_fd, absl::Span<const iovec> data, absl::Span<const int> fds,
                        const WaitOptions& options) {
  if (fds.size() > kMaxFdsPerPacket) {
    return base::ErrnoStatus(E2BIG, "too many fds for one packet");
  }
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerPacket)];
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = const_cast<iovec*>(data.data());
  msg.msg_iovlen = data.size();
  if (!fds.empty()) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  const bool blocking = options.WaitsForever();
  const int flags = MSG_NOSIGNAL | (blocking ? 0 : MSG_DONTWAIT);
  for (;;) {
    if (sendmsg(socket_fd, &msg, flags) >= 0) return absl::OkStatus();
    int error_number = errno;
    if (error_number == EINTR) continue;
    if (IsPeerGoneErrno(error_number)) return base::ErrnoStatus(EPIPE, "peer closed");
    if (error_number != EAGAIN || blocking) return base::ErrnoStatus(error_number, "sendmsg");
    absl::Status waited = WaitFor(socket_fd, POLLOUT, options);
    if (!waited.ok()) return waited;
  }
}

absl::StatusOr<ReceivedPacket> ReceivePacket(int socket_fd, absl::Span<const iovec> buffers,
                                             const WaitOptions& options) {
  alignas(struct cmsghdr) char control[kControlBytes];
  struct msghdr msg;
  const bool blocking = options.WaitsForever();
  const int flags = MSG_CMSG_CLOEXEC | MSG_TRUNC | (blocking ? 0 : MSG_DONTWAIT);
  ssize_t received;
  for (;;) {
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = const_cast<iovec*>(buffers.data());
    msg.msg_iovlen = buffers.size();
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    received = recvmsg(socket_fd, &msg, flags);
    // recvmsg answers end of file (0, no control data) when it finds the queue empty and then
    // the peer gone; a last packet the peer sent just before closing can arrive in between.
    // Then nothing was received: receive again. (A real packet of 0 bytes without fds or
    // credentials is malformed anyway; skipping it loses nothing.)
    if (received == 0 && msg.msg_controllen == 0 && (msg.msg_flags & MSG_CTRUNC) == 0 &&
        PeerGone(socket_fd) && BytesQueued(socket_fd)) {
      continue;
    }
    if (received >= 0) break;
    int error_number = errno;
    // A peer that closed with packets of its own unread leaves ECONNRESET, reported once and
    // ahead of the packets it sent before closing; those are still queued, so receive again.
    if (error_number == EINTR || error_number == ECONNRESET) continue;
    if (IsPeerGoneErrno(error_number)) return base::ErrnoStatus(EPIPE, "peer closed");
    if (error_number != EAGAIN || blocking) return base::ErrnoStatus(error_number, "recvmsg");
    absl::Status waited = WaitFor(socket_fd, POLLIN, options);
    if (!waited.ok()) return waited;
  }

  ReceivedPacket packet;
  packet.size = static_cast<size_t>(received);
  packet.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  // On error every fd that came is closed with `packet`.
  RETURN_IF_ERROR(TakeControlFds(msg, &packet.fds));
  return packet;
}

bool AtEndOfStream(int socket_fd, const ReceivedPacket& packet) {
  if (packet.size != 0 || !packet.fds.empty()) return false;
  return PeerGone(socket_fd) && !BytesQueued(socket_fd);
}

}  // namespace imc
