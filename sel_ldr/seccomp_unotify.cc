#include "sel_ldr/seccomp_unotify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "base/errno_status.h"

namespace sel_ldr {
namespace {

// A zeroed buffer for one structure of the kernel's size (the kernel refuses a notification
// buffer that is not zeroed). On the stack while the kernel's structures are small, as they
// are today (80 and 24 bytes); a larger kernel gets heap buffers.
class KernelBuffer {
 public:
  explicit KernelBuffer(size_t size) {
    if (size > sizeof(inline_)) {
      heap_ = std::make_unique<unsigned char[]>(size);  // Value-initialized: zeroed.
    } else {
      memset(inline_, 0, size);
    }
  }
  void* data() { return heap_ != nullptr ? heap_.get() : inline_; }

 private:
  alignas(8) unsigned char inline_[256];
  std::unique_ptr<unsigned char[]> heap_;
};

}  // namespace

absl::StatusOr<SeccompUnotify::Sizes> SeccompUnotify::KernelSizes() {
  seccomp_notif_sizes sizes;
  memset(&sizes, 0, sizeof(sizes));
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
    return base::ErrnoStatus(errno, "seccomp(SECCOMP_GET_NOTIF_SIZES)");
  }
  Sizes result;
  result.notification = sizes.seccomp_notif;
  result.response = sizes.seccomp_notif_resp;
  return result;
}

absl::StatusOr<std::unique_ptr<SeccompUnotify>> SeccompUnotify::Create(base::UniqueFd listener) {
  absl::StatusOr<Sizes> sizes = KernelSizes();
  if (!sizes.ok()) return sizes.status();
  return std::make_unique<SeccompUnotify>(std::move(listener), *sizes);
}

SeccompUnotify::SeccompUnotify(base::UniqueFd listener, Sizes sizes)
    : listener_(std::move(listener)) {
  // An older kernel's structures are a prefix of ours: we read and write whole structures.
  sizes_.notification = std::max(sizes.notification, sizeof(seccomp_notif));
  sizes_.response = std::max(sizes.response, sizeof(seccomp_notif_resp));
}

absl::Status SeccompUnotify::SetSyncWakeUp() {
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) !=
      0) {
    return base::ErrnoStatus(errno, "SECCOMP_IOCTL_NOTIF_SET_FLAGS");
  }
  return absl::OkStatus();
}

absl::StatusOr<seccomp_notif> SeccompUnotify::Receive() {
  KernelBuffer buffer(sizes_.notification);
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, buffer.data()) != 0) {
    return base::ErrnoStatus(errno, "SECCOMP_IOCTL_NOTIF_RECV");
  }
  seccomp_notif notification;
  memcpy(&notification, buffer.data(), sizeof(notification));
  return notification;
}

absl::Status SeccompUnotify::Send(const seccomp_notif_resp& response) {
  KernelBuffer buffer(sizes_.response);
  memcpy(buffer.data(), &response, sizeof(response));
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, buffer.data()) != 0) {
    return base::ErrnoStatus(errno, "SECCOMP_IOCTL_NOTIF_SEND");
  }
  return absl::OkStatus();
}

absl::Status SeccompUnotify::RespondValue(uint64_t id, int64_t value) {
  seccomp_notif_resp response;
  memset(&response, 0, sizeof(response));
  response.id = id;
  response.val = value;
  return Send(response);
}

absl::Status SeccompUnotify::RespondErrno(uint64_t id, int error) {
  seccomp_notif_resp response;
  memset(&response, 0, sizeof(response));
  response.id = id;
  response.error = -error;
  return Send(response);
}

absl::Status SeccompUnotify::RespondContinue(uint64_t id) {
  seccomp_notif_resp response;
  memset(&response, 0, sizeof(response));
  response.id = id;
  response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  return Send(response);
}

absl::Status SeccompUnotify::AddFdAt(uint64_t id, int host_fd, int number) {
  seccomp_notif_addfd addfd;
  memset(&addfd, 0, sizeof(addfd));
  addfd.id = id;
  addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
  addfd.srcfd = static_cast<uint32_t>(host_fd);
  addfd.newfd = static_cast<uint32_t>(number);
  addfd.newfd_flags = O_CLOEXEC;
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0) {
    return base::ErrnoStatus(errno, "SECCOMP_IOCTL_NOTIF_ADDFD");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SeccompUnotify::IsLive(uint64_t id) {
  uint64_t live_id = id;
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &live_id) == 0) return true;
  if (errno == ENOENT) return false;
  return base::ErrnoStatus(errno, "SECCOMP_IOCTL_NOTIF_ID_VALID");
}

absl::StatusOr<bool> SeccompUnotify::Orphaned() {
  struct pollfd pfd = {listener_.get(), POLLIN, 0};
  const int ready = poll(&pfd, 1, 0);
  if (ready < 0) return base::ErrnoStatus(errno, "poll(seccomp listener)");
  return ready == 1 && (pfd.revents & POLLHUP) != 0;
}

}  // namespace sel_ldr
