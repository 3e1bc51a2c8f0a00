// Waiting for a socket with a deadline and a cancellation signal.
//
// Every blocking imc operation takes WaitOptions. A Cancellation is an eventfd: Cancel()
// makes it readable, which wakes every wait that uses it. The syscall layer gives each
// blocked call one, so that closing a descriptor or a dying module thread can end the call.
#ifndef IMC_CANCELLATION_H_
#define IMC_CANCELLATION_H_

#include <poll.h>

#include <atomic>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/unique_fd.h"

namespace imc {

class Cancellation {
 public:
  // Returns a new, uncancelled signal, or the eventfd error.
  static absl::StatusOr<Cancellation> Create();

  Cancellation(Cancellation&& other) noexcept
      : fd_(std::move(other.fd_)), signalled_(other.signalled_.load()) {}
  Cancellation& operator=(Cancellation&& other) noexcept {
    fd_ = std::move(other.fd_);
    signalled_.store(other.signalled_.load());
    return *this;
  }

  // Wakes every wait using this signal, now and until Reset(). Async-signal-safe.
  void Cancel() const;
  // Makes the signal uncancelled again. Free (no syscall) if it was not cancelled.
  void Reset() const;

  int fd() const { return fd_.get(); }

 private:
  explicit Cancellation(base::UniqueFd fd) : fd_(std::move(fd)) {}
  base::UniqueFd fd_;
  // Cancel() was called since the last Reset(): the eventfd may be readable.
  mutable std::atomic<bool> signalled_{false};
};

// How a blocking operation waits.
struct WaitOptions {
  // Fail with EAGAIN instead of waiting.
  bool nonblocking = false;
  // Fail with ETIMEDOUT once this time has passed.
  absl::Time deadline = absl::InfiniteFuture();
  // Fail with ECANCELED once this is cancelled (not owned; may be null).
  const Cancellation* cancellation = nullptr;
  // When positive: fail with EAGAIN after consuming this many packets that end nothing for the
  // caller (acknowledgements, malformed requests), so that one attempt does bounded work
  // whatever a peer queued. The caller tries again where it may take longer. 0: no bound.
  int max_skipped_packets = 0;

  // True when a wait can only end by the event itself: no deadline, no cancellation.
  bool WaitsForever() const {
    return !nonblocking && deadline == absl::InfiniteFuture() && cancellation == nullptr;
  }
};

// The EAGAIN of an operation that stopped after wait.max_skipped_packets packets: unlike the
// EAGAIN of a nonblocking wait, more may be queued, and trying again may find it.
absl::Status SkippedPacketsStatus(absl::string_view what);

// True for a SkippedPacketsStatus.
bool IsSkippedPackets(const absl::Status& status);

// Waits until `fd` reports one of `events` (POLLIN, POLLOUT; POLLHUP and POLLERR always
// count). Returns EAGAIN if options.nonblocking, ETIMEDOUT after the deadline, ECANCELED
// when cancelled, or the poll error.
absl::Status WaitFor(int fd, short events, const WaitOptions& options);

}  // namespace imc

#endif  // IMC_CANCELLATION_H_
