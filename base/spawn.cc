#include "base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "base/errno_status.h"
#include "base/unique_fd.h"

extern char** environ;

namespace base {
namespace {

// The steps the child takes; a failed one is reported to the parent by its index.
enum Step : int {
  kDeathSignal,
  kProcessGroup,
  kAffinity,
  kParkFd,
  kPlaceFd,
  kCloseRange,
  kSignalDefault,
  kLimit,
  kExec,
};
constexpr const char* kStepNames[] = {
    "prctl(PR_SET_PDEATHSIG)",
    "setpgid",
    "sched_setaffinity",
    "fcntl(F_DUPFD) of a source fd",
    "dup2 to a target fd",
    "close_range",
    "signal(SIGPIPE)",
    "setrlimit(RLIMIT_NOFILE)",
    "execve",
};

struct Failure {
  int step;
  int error;
};

// What the child needs, all made before fork: the child may not allocate.
struct ChildPlan {
  const SpawnOptions* options;
  pid_t parent;
  cpu_set_t cpus;
  int highest_target;       // -1 if no fd is mapped.
  std::vector<int> parked;  // One slot per mapping.
};

// In the child, so async-signal-safe only: reports `step` and errno on `report`, exits.
[[noreturn]] void Fail(int report, Step step) {
  Failure failure = {step, errno};
  (void)!write(report, &failure, sizeof(failure));
  _exit(127);
}

// In the child: applies everything but the exec. `*report` is moved above every target.
// Every fd above the targets is left close-on-exec.
void PrepareChild(ChildPlan& plan, int* report) {
  const SpawnOptions& options = *plan.options;
  const int floor = plan.highest_target + 1;
  // The report pipe first, out of the way of the targets (a target may be its number).
  const int moved = fcntl(*report, F_DUPFD_CLOEXEC, floor);
  if (moved < 0) Fail(*report, kParkFd);
  *report = moved;
  if (options.die_with_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(*report, kDeathSignal);
    if (getppid() != plan.parent) _exit(127);  // The parent is already gone.
  }
  if (options.new_process_group && setpgid(0, 0) != 0) Fail(*report, kProcessGroup);
  if (options.cpu >= 0 && sched_setaffinity(0, sizeof(plan.cpus), &plan.cpus) != 0) {
    Fail(*report, kAffinity);
  }
  // Every source is parked above every target first, wherever the kernel finds room, so
  // that putting one in place cannot overwrite another's source.
  for (size_t i = 0; i < options.fds.size(); ++i) {
    plan.parked[i] = fcntl(options.fds[i].from, F_DUPFD_CLOEXEC, floor);
    if (plan.parked[i] < 0) Fail(*report, kParkFd);
  }
  for (size_t i = 0; i < options.fds.size(); ++i) {
    if (dup2(plan.parked[i], options.fds[i].to) < 0) Fail(*report, kPlaceFd);
  }
  for (int fd = 0; fd < floor; ++fd) {
    bool mapped = false;
    for (const FdMapping& mapping : options.fds) mapped = mapped || mapping.to == fd;
    if (!mapped) close(fd);
  }
  if (syscall(SYS_close_range, static_cast<unsigned>(floor), ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    Fail(*report, kCloseRange);
  }
  if (signal(SIGPIPE, SIG_DFL) == SIG_ERR) Fail(*report, kSignalDefault);
  if (options.descriptor_limit.has_value() &&
      setrlimit(RLIMIT_NOFILE, &*options.descriptor_limit) != 0) {
    Fail(*report, kLimit);
  }
}

// Forks; the child runs `run_child(plan, report_fd)`, which execs, exits or reports a failure.
// The parent waits for the report pipe to close: end of file without a report is success.
absl::StatusOr<pid_t> Start(const SpawnOptions& options,
                            const std::function<void(ChildPlan&, int)>& run_child) {
  ChildPlan plan;
  plan.options = &options;
  plan.parent = getpid();
  CPU_ZERO(&plan.cpus);
  if (options.cpu >= 0) CPU_SET(options.cpu, &plan.cpus);
  plan.highest_target = -1;
  for (const FdMapping& mapping : options.fds) {
    if (mapping.to < 0) return ErrnoStatus(EBADF, "a target fd is negative");
    plan.highest_target = std::max(plan.highest_target, mapping.to);
  }
  plan.parked.assign(options.fds.size(), -1);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe2");
  UniqueFd report_read(pipe_fds[0]);
  UniqueFd report_write(pipe_fds[1]);

  const pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(errno, "fork");
  if (pid == 0) {
    int report = report_write.get();
    PrepareChild(plan, &report);
    run_child(plan, report);
    _exit(127);
  }
  report_write.reset();
  Failure failure;
  ssize_t n;
  do {
    n = read(report_read.get(), &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return pid;
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof(failure)) || failure.step < 0 || failure.step > kExec) {
    return ErrnoStatus(EIO, "the child failed before it started (no report)");
  }
  return ErrnoStatus(failure.error, kStepNames[failure.step]);
}

}  // namespace

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return ErrnoStatus(EINVAL, "no program to spawn");
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  return Start(options, [&args](ChildPlan&, int report) {
    execve(args[0], args.data(), environ);
    Fail(report, kExec);
  });
}

absl::StatusOr<pid_t> ForkChild(const SpawnOptions& options, const std::function<int()>& body) {
  return Start(options, [&body](ChildPlan& plan, int) {
    // Started: closing every fd above the targets closes the report pipe too.
    syscall(SYS_close_range, static_cast<unsigned>(plan.highest_target + 1), ~0U, 0);
    _exit(body());
  });
}

}  // namespace base
