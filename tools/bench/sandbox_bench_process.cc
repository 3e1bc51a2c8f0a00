#include "tools/bench/sandbox_bench_process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/errno_status.h"
#include "base/spawn.h"
#include "base/status_macros.h"

namespace sandbox_bench {
namespace {

absl::Status Errno(const char* what) { return base::ErrnoStatus(errno, what); }

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("was killed by signal ", WTERMSIG(status));
  return absl::StrCat("ended with wait status ", status);
}

}  // namespace

absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> Pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Errno("pipe2");
  return std::make_pair(base::UniqueFd(fds[0]), base::UniqueFd(fds[1]));
}

absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> SeqpacketPair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return Errno("socketpair");
  }
  return std::make_pair(base::UniqueFd(fds[0]), base::UniqueFd(fds[1]));
}

absl::Status ReadExactly(int fd, void* out, size_t size) {
  char* p = static_cast<char*>(out);
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read");
    if (n == 0) return absl::UnavailableError("the peer process closed its output (it died?)");
    p += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteExactly(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write");
    p += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status PinProcess(pid_t pid, int cpu) {
  if (cpu < 0) return absl::OkStatus();
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(pid, sizeof(set), &set) != 0) {
    return base::ErrnoStatus(errno, absl::StrCat("sched_setaffinity(pid ", pid, ")"));
  }
  return absl::OkStatus();
}

// --- ChildProcess ----------------------------------------------------------------------

absl::Status ChildProcess::Exec(const std::vector<std::string>& argv,
                                const std::vector<FdMapping>& fds, int cpu) {
  if (pid_ >= 0) return absl::FailedPreconditionError("the child process already runs");
  ASSIGN_OR_RETURN(pid_, base::Spawn(argv, Options(fds, cpu)));
  return absl::OkStatus();
}

absl::Status ChildProcess::Fork(const std::vector<FdMapping>& fds, int cpu,
                                const std::function<int()>& body) {
  if (pid_ >= 0) return absl::FailedPreconditionError("the child process already runs");
  ASSIGN_OR_RETURN(pid_, base::ForkChild(Options(fds, cpu), body));
  return absl::OkStatus();
}

base::SpawnOptions ChildProcess::Options(const std::vector<FdMapping>& fds, int cpu) {
  base::SpawnOptions options;
  options.fds = fds;
  options.fds.push_back({STDERR_FILENO, STDERR_FILENO});
  options.die_with_parent = true;
  options.cpu = cpu;
  return options;
}

absl::Status ChildProcess::Wait() {
  if (pid_ < 0) return absl::OkStatus();
  int status;
  pid_t reaped;
  do {
    reaped = waitpid(pid_, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  if (reaped < 0) return Errno("waitpid");
  const pid_t pid = pid_;
  pid_ = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("process ", pid, " ", DescribeExit(status)));
}

absl::Status ChildProcess::WaitWithin(absl::Duration timeout) {
  if (pid_ < 0) return absl::OkStatus();
  base::UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
  if (pidfd.valid()) {
    struct pollfd exited = {pidfd.get(), POLLIN, 0};
    const absl::Time deadline = absl::Now() + timeout;
    int ready;
    do {
      const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
      ready = poll(&exited, 1, static_cast<int>(std::min<int64_t>(ms, INT_MAX)));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      const pid_t pid = pid_;
      Kill();
      return absl::DeadlineExceededError(absl::StrCat("process ", pid, " did not end within ",
                                                      absl::FormatDuration(timeout), "; killed"));
    }
  }
  return Wait();
}

void ChildProcess::Kill() {
  if (pid_ < 0) return;
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

// --- The batch protocol ----------------------------------------------------------------

absl::Status BatchChannel::Open() {
  ASSIGN_OR_RETURN(auto commands, Pipe());
  ASSIGN_OR_RETURN(auto replies, Pipe());
  peer_input_ = std::move(commands.first);
  commands_ = std::move(commands.second);
  replies_ = std::move(replies.first);
  peer_output_ = std::move(replies.second);
  return absl::OkStatus();
}

std::vector<FdMapping> BatchChannel::PeerStdio() const {
  return {{peer_input_.get(), STDIN_FILENO}, {peer_output_.get(), STDOUT_FILENO}};
}

void BatchChannel::ClosePeerEnds() {
  peer_input_.reset();
  peer_output_.reset();
}

absl::StatusOr<pid_t> BatchChannel::ReadPid() {
  int64_t pid;
  RETURN_IF_ERROR(ReadExactly(replies_.get(), &pid, sizeof(pid)));
  if (pid <= 0 || pid > INT32_MAX) {
    return absl::InternalError(absl::StrCat("the peer reported pid ", pid));
  }
  return static_cast<pid_t>(pid);
}

absl::Status BatchChannel::RunBatch(int64_t count) {
  RETURN_IF_ERROR(WriteExactly(commands_.get(), &count, sizeof(count)));
  int64_t failures;
  RETURN_IF_ERROR(ReadExactly(replies_.get(), &failures, sizeof(failures)));
  if (failures != 0) {
    return absl::InternalError(absl::StrCat(failures, " of ", count, " operations failed"));
  }
  return absl::OkStatus();
}

int ServeBatches(const std::function<bool()>& operation) {
  int64_t pid = getpid();
  if (!WriteExactly(STDOUT_FILENO, &pid, sizeof(pid)).ok()) return 1;
  for (;;) {
    int64_t count;
    if (!ReadExactly(STDIN_FILENO, &count, sizeof(count)).ok()) return 0;
    int64_t failures = 0;
    for (int64_t i = 0; i < count; ++i) {
      if (!operation()) ++failures;
    }
    if (!WriteExactly(STDOUT_FILENO, &failures, sizeof(failures)).ok()) return 1;
  }
}

// Returns the first "`key`: N kB" figure of a /proc file.
absl::StatusOr<double> ReadProcKib(const std::string& path, absl::string_view key) {
  FILE* file = fopen(path.c_str(), "re");
  if (file == nullptr) return base::ErrnoStatus(errno, absl::StrCat("open ", path));
  std::optional<double> kib;
  char line[256];
  while (!kib.has_value() && fgets(line, sizeof(line), file) != nullptr) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(absl::string_view(line), absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
    double value;
    if (fields.size() == 3 && fields[0] == key && fields[2] == "kB" &&
        absl::SimpleAtod(fields[1], &value)) {
      kib = value;
    }
  }
  fclose(file);
  if (!kib.has_value()) return absl::NotFoundError(absl::StrCat("no ", key, " in ", path));
  return *kib;
}

}  // namespace sandbox_bench
