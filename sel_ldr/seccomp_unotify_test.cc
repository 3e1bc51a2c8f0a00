#include "sel_ldr/seccomp_unotify.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "base/errno_status.h"
#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gtest/gtest.h"

namespace sel_ldr {
namespace {

constexpr uint64_t kArg = 0x5eccu;
// A number far above this test's fds, where AddFdAt places one.
constexpr int kPlacedFd = 900;

// A thread of this process whose getppid calls go to a listener. It loads its filter, then
// calls getppid(kArg) once; the call's result (or -errno) arrives in result().
class TrappedThread {
 public:
  TrappedThread() {
    std::promise<int> listener;
    std::future<int> listener_fd = listener.get_future();
    std::promise<pid_t> tid;
    std::future<pid_t> thread_id = tid.get_future();
    result_future_ = result_.get_future();
    thread_ = std::thread([this, listener = std::move(listener), tid = std::move(tid)]() mutable {
      tid.set_value(static_cast<pid_t>(syscall(SYS_gettid)));
      const int fd = LoadFilter();
      listener.set_value(fd < 0 ? -errno : fd);
      if (fd < 0) return;
      const long value = syscall(SYS_getppid, kArg);
      result_.set_value(value < 0 ? -errno : value);
    });
    tid_ = thread_id.get();
    const int fd = listener_fd.get();
    EXPECT_GE(fd, 0) << "loading the filter: " << strerror(-fd);
    listener_ = base::UniqueFd(fd >= 0 ? fd : -1);
  }
  // The call ends when its listener is closed, if no one answered it.
  ~TrappedThread() { Join(); }

  base::UniqueFd TakeListener() { return std::move(listener_); }
  pid_t tid() const { return tid_; }
  // The trapped call's result, once answered.
  long result() { return result_future_.get(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  static int LoadFilter() {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return static_cast<int>(
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program));
  }

  std::thread thread_;
  pid_t tid_ = 0;
  base::UniqueFd listener_;
  std::promise<long> result_;
  std::future<long> result_future_;
};

std::unique_ptr<SeccompUnotify> Listen(TrappedThread& thread) {
  absl::StatusOr<std::unique_ptr<SeccompUnotify>> listener =
      SeccompUnotify::Create(thread.TakeListener());
  EXPECT_TRUE(listener.ok()) << listener.status();
  return listener.ok() ? *std::move(listener) : nullptr;
}

// Test that the kernel's structures are at least as large as this header's.
TEST(SeccompUnotifyTest, KernelSizesCoverTheHeadersStructures) {
  absl::StatusOr<SeccompUnotify::Sizes> sizes = SeccompUnotify::KernelSizes();
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  EXPECT_GE(sizes->notification, sizeof(seccomp_notif));
  EXPECT_GE(sizes->response, sizeof(seccomp_notif_resp));
}

// Test that Receive returns the trapped call as the thread made it, and RespondValue makes
// the call return that value.
TEST(SeccompUnotifyTest, ReceiveThenRespondValue) {
  TrappedThread thread;
  std::unique_ptr<SeccompUnotify> listener = Listen(thread);
  ASSERT_NE(listener, nullptr);
  absl::StatusOr<seccomp_notif> call = listener->Receive();
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->data.nr, SYS_getppid);
  EXPECT_EQ(call->data.args[0], kArg);
  EXPECT_EQ(static_cast<pid_t>(call->pid), thread.tid());
  ASSERT_TRUE(listener->RespondValue(call->id, 4242).ok());
  EXPECT_EQ(thread.result(), 4242);
}

// Test that RespondErrno makes the call fail with that errno.
TEST(SeccompUnotifyTest, RespondErrno) {
  TrappedThread thread;
  std::unique_ptr<SeccompUnotify> listener = Listen(thread);
  ASSERT_NE(listener, nullptr);
  absl::StatusOr<seccomp_notif> call = listener->Receive();
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(listener->RespondErrno(call->id, EPERM).ok());
  EXPECT_EQ(thread.result(), -EPERM);
}

// Test that RespondContinue lets the kernel run the call: getppid answers this process's
// parent.
TEST(SeccompUnotifyTest, RespondContinueRunsTheCall) {
  TrappedThread thread;
  std::unique_ptr<SeccompUnotify> listener = Listen(thread);
  ASSERT_NE(listener, nullptr);
  absl::StatusOr<seccomp_notif> call = listener->Receive();
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(listener->RespondContinue(call->id).ok());
  EXPECT_EQ(thread.result(), getppid());
}

// Test that a listener with buffers larger than the kernel's (heap buffers) works alike.
TEST(SeccompUnotifyTest, LargerBuffersThanTheKernelsWork) {
  TrappedThread thread;
  SeccompUnotify listener(thread.TakeListener(), {4096, 4096});
  absl::StatusOr<seccomp_notif> call = listener.Receive();
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->data.args[0], kArg);
  ASSERT_TRUE(listener.RespondValue(call->id, 7).ok());
  EXPECT_EQ(thread.result(), 7);
}

// Test that IsLive is true while the call waits and false once it was answered, and that
// answering it again is ENOENT.
TEST(SeccompUnotifyTest, IsLiveUntilAnswered) {
  TrappedThread thread;
  std::unique_ptr<SeccompUnotify> listener = Listen(thread);
  ASSERT_NE(listener, nullptr);
  absl::StatusOr<seccomp_notif> call = listener->Receive();
  ASSERT_TRUE(call.ok()) << call.status();
  absl::StatusOr<bool> live = listener->IsLive(call->id);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_TRUE(*live);
  ASSERT_TRUE(listener->RespondValue(call->id, 0).ok());
  // Until the thread has taken its answer, a second one is EINPROGRESS.
  EXPECT_EQ(thread.result(), 0);
  live = listener->IsLive(call->id);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_FALSE(*live);
  EXPECT_EQ(base::ErrnoOf(listener->RespondValue(call->id, 0)), ENOENT);
}

// Test that AddFdAt puts the host fd at exactly the given number, close-on-exec, replacing
// what was there.
TEST(SeccompUnotifyTest, AddFdAtReplacesTheNumber) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  base::UniqueFd read_end(pipe_fds[0]);
  base::UniqueFd write_end(pipe_fds[1]);
  // Something else, inheritable, at the number first.
  base::UniqueFd null(open("/dev/null", O_RDONLY));
  ASSERT_EQ(dup2(null.get(), kPlacedFd), kPlacedFd);
  base::UniqueFd placed(kPlacedFd);

  TrappedThread thread;
  std::unique_ptr<SeccompUnotify> listener = Listen(thread);
  ASSERT_NE(listener, nullptr);
  absl::StatusOr<seccomp_notif> call = listener->Receive();
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(listener->AddFdAt(call->id, read_end.get(), kPlacedFd).ok());
  ASSERT_TRUE(listener->RespondValue(call->id, 0).ok());
  EXPECT_EQ(thread.result(), 0);

  struct stat expected, got;
  ASSERT_EQ(fstat(read_end.get(), &expected), 0);
  ASSERT_EQ(fstat(kPlacedFd, &got), 0);
  EXPECT_EQ(got.st_ino, expected.st_ino);
  EXPECT_EQ(got.st_dev, expected.st_dev);
  EXPECT_EQ(fcntl(kPlacedFd, F_GETFD), FD_CLOEXEC);
}

// Test that AddFdAt of a host fd that is not open fails with EBADF and opens nothing.
TEST(SeccompUnotifyTest, AddFdAtOfAClosedFdIsEbadf) {
  TrappedThread thread;
  std::unique_ptr<SeccompUnotify> listener = Listen(thread);
  ASSERT_NE(listener, nullptr);
  absl::StatusOr<seccomp_notif> call = listener->Receive();
  ASSERT_TRUE(call.ok()) << call.status();
  const int fds_before = base::CountOpenFds();
  EXPECT_EQ(base::ErrnoOf(listener->AddFdAt(call->id, kPlacedFd + 1, kPlacedFd)), EBADF);
  EXPECT_EQ(base::CountOpenFds(), fds_before);
  EXPECT_EQ(fcntl(kPlacedFd, F_GETFD), -1);
  ASSERT_TRUE(listener->RespondValue(call->id, 0).ok());
  EXPECT_EQ(thread.result(), 0);
}

// Test that the listener is orphaned once the last thread under its filter has exited, and
// not before.
TEST(SeccompUnotifyTest, OrphanedOnceTheThreadsAreGone) {
  TrappedThread thread;
  std::unique_ptr<SeccompUnotify> listener = Listen(thread);
  ASSERT_NE(listener, nullptr);
  absl::StatusOr<bool> orphaned = listener->Orphaned();
  ASSERT_TRUE(orphaned.ok()) << orphaned.status();
  EXPECT_FALSE(*orphaned);
  absl::StatusOr<seccomp_notif> call = listener->Receive();
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(listener->RespondValue(call->id, 0).ok());
  EXPECT_EQ(thread.result(), 0);
  thread.Join();
  // The filter is released with the exited thread, shortly after the join.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    orphaned = listener->Orphaned();
    ASSERT_TRUE(orphaned.ok()) << orphaned.status();
    if (*orphaned) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(*orphaned);
}

// Test that SetSyncWakeUp succeeds, or fails only as a kernel without the flag does.
TEST(SeccompUnotifyTest, SetSyncWakeUpIsOkOrEinval) {
  TrappedThread thread;
  std::unique_ptr<SeccompUnotify> listener = Listen(thread);
  ASSERT_NE(listener, nullptr);
  absl::Status status = listener->SetSyncWakeUp();
  if (!status.ok()) {
    EXPECT_EQ(base::ErrnoOf(status), EINVAL) << status;
  }
  absl::StatusOr<seccomp_notif> call = listener->Receive();
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(listener->RespondValue(call->id, 1).ok());
  EXPECT_EQ(thread.result(), 1);
}

}  // namespace
}  // namespace sel_ldr
