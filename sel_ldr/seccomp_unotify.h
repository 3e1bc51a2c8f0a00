// The supervisor's side of seccomp user notification: the listener a module's filter hands
// its trapped calls to. SeccompListener is what the supervisor schedules against; the kernel's
// listener is SeccompUnotify, one ioctl per method; tests fake the interface.
#ifndef SEL_LDR_SECCOMP_UNOTIFY_H_
#define SEL_LDR_SECCOMP_UNOTIFY_H_

#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"

// Newer than Debian 12's kernel headers (Linux 6.6). Kernels without them reject the ioctl,
// and callers fall back.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

namespace sel_ldr {

// A seccomp listener. Errors are base::ErrnoStatus values: base::ErrnoOf() gives the errno.
// Every method may be called from any thread, and several at once.
class SeccompListener {
 public:
  virtual ~SeccompListener() = default;

  // Asks for synchronous wake-ups: the thread that raises a notification hands the CPU to
  // the receiver, and the receiver's answer straight back. Errors: EINVAL where the kernel
  // lacks SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (wake-ups then stay plain).
  virtual absl::Status SetSyncWakeUp() = 0;
  // Waits for the next trapped call and returns it. Errors: EINTR when a signal interrupted
  // the wait; ENOENT when the calling thread died before its call was taken.
  virtual absl::StatusOr<seccomp_notif> Receive() = 0;
  // Answers call `id`: the call returns `value`. Errors: ENOENT when the call is gone.
  virtual absl::Status RespondValue(uint64_t id, int64_t value) = 0;
  // Answers call `id`: the call fails with errno `error` (positive). Errors: as RespondValue.
  virtual absl::Status RespondErrno(uint64_t id, int error) = 0;
  // Answers call `id` by letting the kernel run it. Errors: as RespondValue.
  virtual absl::Status RespondContinue(uint64_t id) = 0;
  // Puts a copy of host fd `host_fd` at fd number `number` of the process that made call
  // `id`, close-on-exec, replacing what is there (SECCOMP_ADDFD_FLAG_SETFD). Errors: ENOENT
  // when the call is gone; EBADF for a number beyond the process's RLIMIT_NOFILE; EMFILE.
  virtual absl::Status AddFdAt(uint64_t id, int host_fd, int number) = 0;
  // Returns whether call `id` still waits for its answer (so its thread still exists).
  virtual absl::StatusOr<bool> IsLive(uint64_t id) = 0;
  // Returns whether the listener is orphaned: no task is left under its filter, so no
  // notification can come any more.
  virtual absl::StatusOr<bool> Orphaned() = 0;
};

// The kernel's listener, for the notification fd the filter was loaded with.
class SeccompUnotify final : public SeccompListener {
 public:
  // The structure sizes this kernel uses (SECCOMP_GET_NOTIF_SIZES).
  struct Sizes {
    size_t notification = 0;
    size_t response = 0;
  };

  // Serves `listener` with buffers of the kernel's sizes. Errors: SECCOMP_GET_NOTIF_SIZES's.
  static absl::StatusOr<std::unique_ptr<SeccompUnotify>> Create(base::UniqueFd listener);
  // Serves `listener` with buffers of `sizes` (at least those of the kernel; never less than
  // this header's structures).
  SeccompUnotify(base::UniqueFd listener, Sizes sizes);

  // Returns the sizes the running kernel uses. Errors: the seccomp(2) error.
  static absl::StatusOr<Sizes> KernelSizes();

  int fd() const { return listener_.get(); }
  const Sizes& sizes() const { return sizes_; }

  absl::Status SetSyncWakeUp() override;
  absl::StatusOr<seccomp_notif> Receive() override;
  absl::Status RespondValue(uint64_t id, int64_t value) override;
  absl::Status RespondErrno(uint64_t id, int error) override;
  absl::Status RespondContinue(uint64_t id) override;
  absl::Status AddFdAt(uint64_t id, int host_fd, int number) override;
  absl::StatusOr<bool> IsLive(uint64_t id) override;
  absl::StatusOr<bool> Orphaned() override;

 private:
  absl::Status Send(const seccomp_notif_resp& response);

  base::UniqueFd listener_;
  Sizes sizes_;
};

}  // namespace sel_ldr

#endif  // SEL_LDR_SECCOMP_UNOTIFY_H_
