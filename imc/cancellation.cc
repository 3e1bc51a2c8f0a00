#include "imc/cancellation.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/cord.h"
#include "base/errno_status.h"

namespace imc {
namespace {

constexpr absl::string_view kSkippedPacketsPayload = "imc.skipped_packets";

}  // namespace

absl::StatusOr<Cancellation> Cancellation::Create() {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return base::ErrnoStatus(errno, "eventfd");
  return Cancellation(base::UniqueFd(fd));
}

void Cancellation::Cancel() const {
  uint64_t one = 1;
  // The counter saturates long before it could overflow; a failed write means it is
  // already readable, which is all Cancel() promises.
  (void)!write(fd_.get(), &one, sizeof(one));
  // After the write: whenever the eventfd is readable, Reset() will see the flag.
  signalled_.store(true);
}

void Cancellation::Reset() const {
  if (!signalled_.exchange(false)) return;
  uint64_t value;
  (void)!read(fd_.get(), &value, sizeof(value));
}

absl::Status SkippedPacketsStatus(absl::string_view what) {
  absl::Status status = base::ErrnoStatus(EAGAIN, what);
  status.SetPayload(kSkippedPacketsPayload, absl::Cord());
  return status;
}

bool IsSkippedPackets(const absl::Status& status) {
  return status.GetPayload(kSkippedPacketsPayload).has_value();
}

absl::Status WaitFor(int fd, short events, const WaitOptions& options) {
  if (options.nonblocking) return base::ErrnoStatus(EAGAIN, "operation would block");
  struct pollfd fds[2] = {{fd, events, 0}, {-1, POLLIN, 0}};
  nfds_t count = 1;
  if (options.cancellation != nullptr) {
    fds[1].fd = options.cancellation->fd();
    count = 2;
  }
  for (;;) {
    int timeout_ms = -1;
    if (options.deadline != absl::InfiniteFuture()) {
      absl::Duration left = options.deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return base::ErrnoStatus(ETIMEDOUT, "deadline passed");
      // Round up so that a wait never ends just before its deadline.
      timeout_ms = static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), 24 * 3600 * 1000));
    }
    int ready = poll(fds, count, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return base::ErrnoStatus(errno, "poll");
    }
    if (count == 2 && fds[1].revents != 0) {
      return base::ErrnoStatus(ECANCELED, "wait cancelled");
    }
    if (fds[0].revents != 0) return absl::OkStatus();
  }
}

}  // namespace imc
