// The supervisor's scheduling, driven through a fake listener: each test queues the calls a
// module would make and reads the answers the supervisor sends. The module process is a real
// child (forked here, sleeping until killed), so that the supervisor waits for it, counts
// its threads and reaches its memory as it does a module's.
#include "sel_ldr/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/types/optional.h"
#include "base/errno_status.h"
#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/nacl_abi.h"

namespace sel_ldr {
namespace {

using ::std::chrono::milliseconds;
using ::std::chrono::seconds;

// What the supervisor answered to one call.
struct Answer {
  enum class Kind { kValue, kErrno, kContinue };
  Kind kind = Kind::kValue;
  int64_t value = 0;  // The value, or the errno.
};

// A placement the supervisor asked for.
struct Placement {
  uint64_t id = 0;
  int number = -1;
  off_t host_size = -1;  // The placed host fd's size, when it was placed.
};

// The module's side of a listener: the test queues calls, the supervisor receives and answers
// them. Receive waits a little and then reports EINTR, as the kernel's listener does when
// the supervisor signals its workers to stop.
class FakeListener : public SeccompListener {
 public:
  // Queues a call of thread `tid` and returns its id.
  uint64_t Queue(pid_t tid, uint64_t nr, std::vector<uint64_t> args) {
    seccomp_notif notification;
    memset(&notification, 0, sizeof(notification));
    notification.pid = static_cast<uint32_t>(tid);
    notification.data.nr = static_cast<int>(nr);
    notification.data.arch = AUDIT_ARCH_X86_64;
    for (size_t i = 0; i < args.size() && i < 6; ++i) notification.data.args[i] = args[i];
    std::lock_guard<std::mutex> lock(mu_);
    notification.id = next_id_++;
    queue_.push_back(notification);
    changed_.notify_all();
    return notification.id;
  }

  // Waits up to `timeout` for the answer to call `id`.
  absl::optional<Answer> Await(uint64_t id, std::chrono::milliseconds timeout = seconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, timeout, [&] { return answers_.count(id) != 0; });
    auto it = answers_.find(id);
    if (it == answers_.end()) return absl::nullopt;
    return it->second;
  }

  bool Answered(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    return answers_.count(id) != 0;
  }

  std::vector<Placement> placements() {
    std::lock_guard<std::mutex> lock(mu_);
    return placements_;
  }

  // What AddFdAt fails with from now on (0: it succeeds).
  void FailAddFdWith(int error) {
    std::lock_guard<std::mutex> lock(mu_);
    add_fd_error_ = error;
  }

  // SeccompListener.
  absl::Status SetSyncWakeUp() override { return absl::OkStatus(); }

  absl::StatusOr<seccomp_notif> Receive() override {
    std::unique_lock<std::mutex> lock(mu_);
    if (!changed_.wait_for(lock, milliseconds(2), [&] { return !queue_.empty(); })) {
      return base::ErrnoStatus(EINTR, "fake receive");
    }
    seccomp_notif notification = queue_.front();
    queue_.pop_front();
    pending_.insert(notification.id);
    return notification;
  }

  absl::Status RespondValue(uint64_t id, int64_t value) override {
    return Record(id, {Answer::Kind::kValue, value});
  }
  absl::Status RespondErrno(uint64_t id, int error) override {
    return Record(id, {Answer::Kind::kErrno, error});
  }
  absl::Status RespondContinue(uint64_t id) override {
    return Record(id, {Answer::Kind::kContinue, 0});
  }

  absl::Status AddFdAt(uint64_t id, int host_fd, int number) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.count(id) == 0) return base::ErrnoStatus(ENOENT, "fake add fd");
    if (add_fd_error_ != 0) return base::ErrnoStatus(add_fd_error_, "fake add fd");
    struct stat host;
    placements_.push_back({id, number, fstat(host_fd, &host) == 0 ? host.st_size : -1});
    return absl::OkStatus();
  }

  absl::StatusOr<bool> IsLive(uint64_t id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return pending_.count(id) != 0;
  }

  absl::StatusOr<bool> Orphaned() override { return false; }

 private:
  absl::Status Record(uint64_t id, Answer answer) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.erase(id) == 0) return base::ErrnoStatus(ENOENT, "fake respond");
    answers_[id] = answer;
    changed_.notify_all();
    return absl::OkStatus();
  }

  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t next_id_ = 1;
  std::deque<seccomp_notif> queue_;
  std::set<uint64_t> pending_;
  std::map<uint64_t, Answer> answers_;
  std::vector<Placement> placements_;
  int add_fd_error_ = 0;
};

// The fd the module's child execs from (any number: the supervisor only compares it).
constexpr int kExecFd = 7;
// glibc's pthread_create.
constexpr uint64_t kThreadCloneFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                       CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                                       CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;

uint64_t Nacl(int number) { return NACL_ABI_SYSCALL_BASE + static_cast<uint64_t>(number); }

// Where imc_makeboundsock writes its two descriptors, in the module child's copy of this.
int bound_socket_pair[2];

// The module child's extra threads: they only sleep, on raw syscalls.
alignas(16) char thread_stacks[4][64 * 1024];
// Not instrumented: a sanitizer's runtime does not know these threads.
__attribute__((no_sanitize("address", "thread"))) int SleepForever(void*) {
  for (;;) syscall(SYS_pause);
}

class SupervisorTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (supervisor_ != nullptr) Stop().IgnoreError();
  }

  // Forks the module process, sleeping with `threads` threads (or more: a sanitizer's
  // runtime may add its own), and runs a supervisor for it with a fake listener.
  void Start(SupervisorOptions options = {}, int threads = 1) {
    ForkModule(threads);
    Serve(options);
  }

  void ForkModule(int threads) {
    int ready[2];
    ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int i = 1; i < threads && i <= 4; ++i) {
        if (clone(SleepForever, thread_stacks[i - 1] + sizeof(thread_stacks[i - 1]),
                  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD, nullptr) < 0) {
          _exit(1);
        }
      }
      char byte = 0;
      if (write(ready[1], &byte, 1) != 1) _exit(1);
      for (;;) pause();
    }
    close(ready[1]);
    char byte;
    EXPECT_EQ(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    pid_ = pid;
    pidfd_ = base::UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    ASSERT_TRUE(pidfd_.valid());
  }

  void Serve(SupervisorOptions options) {
    SandboxedModule module;
    module.pid = pid_;
    module.pidfd = base::UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
    module.exec_fd = kExecFd;
    auto listener = std::make_unique<FakeListener>();
    listener_ = listener.get();
    supervisor_ =
        std::make_unique<Supervisor>(std::move(module), std::move(listener), &table_, options);
    runner_ = std::thread([this] { outcome_ = supervisor_->Run(); });
  }

  // The module process's threads now.
  int ModuleThreads() {
    int threads = 0;
    std::string path = "/proc/" + std::to_string(pid_) + "/task";
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      (void)entry;
      ++threads;
    }
    return threads;
  }

  uint64_t Call(uint64_t nr, std::vector<uint64_t> args = {}) {
    return listener_->Queue(pid_, nr, std::move(args));
  }

  // The loader's exec of the module, as sandbox.cc's child makes it.
  uint64_t CallLoaderExec() {
    return Call(SYS_execveat, {kExecFd, 0x1000, 0x2000, 0x3000, AT_EMPTY_PATH});
  }

  // Lets the module start, as the loader's exec does.
  void StartModule() {
    absl::optional<Answer> exec = listener_->Await(CallLoaderExec());
    ASSERT_TRUE(exec.has_value());
    ASSERT_EQ(exec->kind, Answer::Kind::kContinue);
  }

  // Makes a bound socket; sets *bound and *address to its descriptors.
  void MakeBoundSocket(int* bound, int* address) {
    absl::optional<Answer> made = listener_->Await(
        Call(Nacl(NACL_sys_imc_makeboundsock), {reinterpret_cast<uint64_t>(bound_socket_pair)}));
    ASSERT_TRUE(made.has_value());
    ASSERT_EQ(made->kind, Answer::Kind::kValue);
    ASSERT_EQ(made->value, 0);
    int pair[2];
    struct iovec local = {pair, sizeof(pair)};
    struct iovec remote = {bound_socket_pair, sizeof(pair)};
    ASSERT_EQ(process_vm_readv(pid_, &local, 1, &remote, 1, 0), ssize_t{sizeof(pair)});
    *bound = pair[0];
    *address = pair[1];
  }

  // Waits for Run to return (the module ended by itself, or the supervisor killed it).
  absl::StatusOr<ModuleOutcome> Join() {
    runner_.join();
    supervisor_.reset();
    pidfd_.reset();
    return outcome_;
  }

  // Kills the module and returns how Run says it ended.
  absl::StatusOr<ModuleOutcome> Stop() {
    syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    return Join();
  }

  pid_t pid_ = -1;
  base::UniqueFd pidfd_;  // Ours, to kill the module without racing its reaping.
  syscalls::DescriptorTable table_;
  FakeListener* listener_ = nullptr;  // Owned by supervisor_.
  std::unique_ptr<Supervisor> supervisor_;
  std::thread runner_;
  absl::StatusOr<ModuleOutcome> outcome_;
};

void ExpectKilled(const absl::StatusOr<ModuleOutcome>& outcome) {
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->kind, ModuleOutcome::Kind::kSignaled);
  EXPECT_EQ(outcome->signal, SIGKILL);
}

void ExpectViolation(const absl::StatusOr<ModuleOutcome>& outcome, const std::string& what) {
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->kind, ModuleOutcome::Kind::kPolicyViolation);
  EXPECT_NE(outcome->violation.find(what), std::string::npos) << outcome->violation;
}

// Test that a call that would block hands the receiver role to another worker: the next
// call is received and answered while the first still waits, and can be what it waits for.
TEST_F(SupervisorTest, BlockingCallHandsOffTheReceiver) {
  Start();
  StartModule();
  int bound, address;
  MakeBoundSocket(&bound, &address);
  const uint64_t accept = Call(Nacl(NACL_sys_imc_accept), {static_cast<uint64_t>(bound)});

  absl::optional<Answer> null = listener_->Await(Call(Nacl(NACL_sys_null)));
  ASSERT_TRUE(null.has_value());
  EXPECT_EQ(null->value, 0);
  EXPECT_FALSE(listener_->Answered(accept));

  absl::optional<Answer> connected =
      listener_->Await(Call(Nacl(NACL_sys_imc_connect), {static_cast<uint64_t>(address)}));
  ASSERT_TRUE(connected.has_value());
  EXPECT_EQ(connected->kind, Answer::Kind::kValue);
  EXPECT_GE(connected->value, 0);
  absl::optional<Answer> accepted = listener_->Await(accept);
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(accepted->kind, Answer::Kind::kValue);
  EXPECT_GE(accepted->value, 0);
  EXPECT_NE(accepted->value, connected->value);
  ExpectKilled(Stop());
}

// Test that when the module dies, a call still blocked is cancelled and answered, Run
// returns, and the descriptor table is closed: nothing stays open.
TEST_F(SupervisorTest, ModuleExitCancelsBlockedCalls) {
  const int fds_before = base::CountOpenFds();
  Start();
  StartModule();
  int bound, address;
  MakeBoundSocket(&bound, &address);
  const uint64_t accept = Call(Nacl(NACL_sys_imc_accept), {static_cast<uint64_t>(bound)});
  // Received only once the accept has handed off the receiver role.
  ASSERT_TRUE(listener_->Await(Call(Nacl(NACL_sys_null))).has_value());
  ASSERT_FALSE(listener_->Answered(accept));

  FakeListener* listener = listener_;
  // The listener goes with the supervisor: look at the answer before.
  syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  runner_.join();
  absl::optional<Answer> cancelled = listener->Await(accept, milliseconds(0));
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->kind, Answer::Kind::kErrno);
  EXPECT_EQ(table_.Get(bound), nullptr);
  EXPECT_EQ(table_.Get(address), nullptr);
  supervisor_.reset();
  pidfd_.reset();
  ExpectKilled(outcome_);
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

// Test that a call that would block, when no worker can be started to take over receiving
// (no fd for its eventfd), is answered EMFILE instead of blocking the receiver, and that
// serving goes on.
TEST_F(SupervisorTest, FailingWorkerStartAnswersEmfile) {
  Start();
  StartModule();
  int bound, address;
  MakeBoundSocket(&bound, &address);
  // No new fd from here: the lowest free number is the limit.
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  const int lowest_free = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(lowest_free, 0);
  close(lowest_free);
  const int fds_before = base::CountOpenFds();
  struct rlimit limited = saved;
  limited.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limited), 0);

  absl::optional<Answer> accept =
      listener_->Await(Call(Nacl(NACL_sys_imc_accept), {static_cast<uint64_t>(bound)}));
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(accept.has_value());
  EXPECT_EQ(accept->kind, Answer::Kind::kErrno);
  EXPECT_EQ(accept->value, EMFILE);
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();

  absl::optional<Answer> null = listener_->Await(Call(Nacl(NACL_sys_null)));
  ASSERT_TRUE(null.has_value());
  EXPECT_EQ(null->value, 0);
  ExpectKilled(Stop());
}

// Test that a thread clone beyond the thread budget is EAGAIN.
TEST_F(SupervisorTest, ThreadCloneAtTheLimitIsEagain) {
  SupervisorOptions options;
  options.max_threads = 1;
  Start(options);
  StartModule();
  absl::optional<Answer> clone = listener_->Await(Call(SYS_clone, {kThreadCloneFlags}));
  ASSERT_TRUE(clone.has_value());
  EXPECT_EQ(clone->kind, Answer::Kind::kErrno);
  EXPECT_EQ(clone->value, EAGAIN);
  ExpectKilled(Stop());
}

// Test that the budget counts clones and exits: with as many threads as the budget allows,
// a clone is EAGAIN; after one thread's exit, a clone is let through.
TEST_F(SupervisorTest, ThreadBudgetCountsClonesAndExits) {
  ForkModule(/*threads=*/2);
  SupervisorOptions options;
  options.max_threads = ModuleThreads();
  Serve(options);
  StartModule();
  // The supervisor counts the main thread and each clone it lets through, and takes the
  // count from /proc when the budget looks spent: clones fill the budget, then are EAGAIN.
  int continued = 0;
  absl::optional<Answer> clone;
  do {
    clone = listener_->Await(Call(SYS_clone, {kThreadCloneFlags}));
    ASSERT_TRUE(clone.has_value());
    if (clone->kind == Answer::Kind::kContinue) ++continued;
  } while (clone->kind == Answer::Kind::kContinue && continued < options.max_threads);
  EXPECT_EQ(continued, options.max_threads - 1);
  EXPECT_EQ(clone->kind, Answer::Kind::kErrno);
  EXPECT_EQ(clone->value, EAGAIN);
  absl::optional<Answer> exit = listener_->Await(Call(SYS_exit, {0}));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->kind, Answer::Kind::kContinue);
  clone = listener_->Await(Call(SYS_clone, {kThreadCloneFlags}));
  ASSERT_TRUE(clone.has_value());
  EXPECT_EQ(clone->kind, Answer::Kind::kContinue);
  ExpectKilled(Stop());
}

// Test that a clone that makes a process is answered ENOSYS, and one that makes a namespace
// is a policy violation.
TEST_F(SupervisorTest, ProcessCloneIsEnosysNamespaceCloneIsAViolation) {
  Start();
  StartModule();
  absl::optional<Answer> fork = listener_->Await(Call(SYS_clone, {SIGCHLD}));
  ASSERT_TRUE(fork.has_value());
  EXPECT_EQ(fork->kind, Answer::Kind::kErrno);
  EXPECT_EQ(fork->value, ENOSYS);
  Call(SYS_clone, {CLONE_NEWUSER | SIGCHLD});
  ExpectViolation(Join(), "clone");
}

// Test that the loader's exec is let through once, and a second one is a violation.
TEST_F(SupervisorTest, LoaderExecIsContinuedOnce) {
  Start();
  StartModule();
  CallLoaderExec();
  ExpectViolation(Join(), "a second exec");
}

// Test that calls before the loader's exec are violations: only sel_ldr's code runs then.
TEST_F(SupervisorTest, CallBeforeTheLoaderExecIsAViolation) {
  Start();
  Call(Nacl(NACL_sys_null));
  ExpectViolation(Join(), "before the module started");
}

// An exec that is not the loader's: (number, fd, flags, from another thread).
struct ExecForm {
  const char* name;
  uint64_t nr;
  uint64_t fd;
  uint64_t flags;
  bool other_thread;
};

class SupervisorExecTest : public SupervisorTest, public ::testing::WithParamInterface<ExecForm> {};

// Test that an exec of any other form than the loader's, even as the first call, is a
// violation.
TEST_P(SupervisorExecTest, OtherExecIsAViolation) {
  const ExecForm& form = GetParam();
  Start();
  const pid_t tid = form.other_thread ? pid_ + 1 : pid_;
  listener_->Queue(tid, form.nr, {form.fd, 0x1000, 0x2000, 0x3000, form.flags});
  ExpectViolation(Join(), "exec");
}

INSTANTIATE_TEST_SUITE_P(
    Forms, SupervisorExecTest,
    ::testing::Values(ExecForm{"execve", SYS_execve, kExecFd, AT_EMPTY_PATH, false},
                      ExecForm{"other_fd", SYS_execveat, kExecFd + 1, AT_EMPTY_PATH, false},
                      ExecForm{"path", SYS_execveat, kExecFd, 0, false},
                      ExecForm{"other_thread", SYS_execveat, kExecFd, AT_EMPTY_PATH, true}),
    [](const ::testing::TestParamInfo<ExecForm>& info) { return std::string(info.param.name); });

// Test that an mmap of a shared memory descriptor places the object's memfd at the
// descriptor's number (ADDFD with SETFD) and lets the kernel run the call (kRunInKernel
// becomes CONTINUE).
TEST_F(SupervisorTest, SharedMemoryMmapPlacesTheFdAndContinues) {
  Start();
  StartModule();
  constexpr uint64_t kSize = 65536;
  absl::optional<Answer> created =
      listener_->Await(Call(Nacl(NACL_sys_imc_mem_obj_create), {kSize}));
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->kind, Answer::Kind::kValue);
  const int d = static_cast<int>(created->value);
  const uint64_t mmap =
      Call(SYS_mmap, {0, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<uint64_t>(d), 0});
  absl::optional<Answer> mapped = listener_->Await(mmap);
  ASSERT_TRUE(mapped.has_value());
  EXPECT_EQ(mapped->kind, Answer::Kind::kContinue);
  std::vector<Placement> placements = listener_->placements();
  ASSERT_EQ(placements.size(), 1u);
  EXPECT_EQ(placements[0].id, mmap);
  EXPECT_EQ(placements[0].number, d);
  EXPECT_EQ(placements[0].host_size, static_cast<off_t>(kSize));
  ExpectKilled(Stop());
}

// Test that a placement the kernel refuses for a number beyond the module's fd limit (EBADF)
// answers the mmap EMFILE.
TEST_F(SupervisorTest, RefusedPlacementAnswersEmfile) {
  Start();
  StartModule();
  absl::optional<Answer> created =
      listener_->Await(Call(Nacl(NACL_sys_imc_mem_obj_create), {65536}));
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->kind, Answer::Kind::kValue);
  listener_->FailAddFdWith(EBADF);
  absl::optional<Answer> mapped = listener_->Await(
      Call(SYS_mmap, {0, 65536, PROT_READ, MAP_SHARED, static_cast<uint64_t>(created->value), 0}));
  ASSERT_TRUE(mapped.has_value());
  EXPECT_EQ(mapped->kind, Answer::Kind::kErrno);
  EXPECT_EQ(mapped->value, EMFILE);
  ExpectKilled(Stop());
}

// Test that the NaCl exit call ends the run with its status.
TEST_F(SupervisorTest, NaclExitEndsTheRunWithItsStatus) {
  Start();
  StartModule();
  Call(Nacl(NACL_sys_exit), {3});
  absl::StatusOr<ModuleOutcome> outcome = Join();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->kind, ModuleOutcome::Kind::kExited);
  EXPECT_EQ(outcome->status, 3);
}

}  // namespace
}  // namespace sel_ldr
