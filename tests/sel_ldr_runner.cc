#include "tests/sel_ldr_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "base/spawn.h"
#include "imc/message_socket.h"
#include "tools/runfiles/runfiles.h"

namespace tests {
namespace {

std::string EnvOrEmpty(const char* name) {
  const char* value = getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

std::string RunfilePath(absl::string_view path) { return runfiles::Runfile(path).value_or(""); }

std::string SelLdrPath() { return RunfilePath("sel_ldr/sel_ldr"); }

std::string ModulePath(absl::string_view name) {
  return RunfilePath(absl::StrCat("tests/modules/", name, ".nexe"));
}

std::string TestTempDir() {
  std::string dir = EnvOrEmpty("TEST_TMPDIR");
  return dir.empty() ? "/tmp" : dir;
}

std::string SelLdrResult::Describe() const {
  return absl::StrCat(exited ? absl::StrCat("exit ", exit_status) : absl::StrCat("signal ", signal),
                      "\n--- stdout ---\n", out, "--- stderr ---\n", err, "---");
}

absl::StatusOr<std::unique_ptr<SelLdrProcess>> SelLdrProcess::Start(const SelLdrCommand& command) {
  // A write to the stdin of a sel_ldr that is gone must fail, not kill the test.
  signal(SIGPIPE, SIG_IGN);
  for (const auto& [target, source] : command.fds) {
    if (target < 3 || source < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("inherited fd ", target, " <- ", source, ": out of range"));
    }
  }

  int in[2] = {-1, -1};
  int out[2];
  int err[2];
  if (command.pipe_stdin) {
    if (pipe2(in, O_CLOEXEC) != 0) return base::ErrnoStatus(errno, "pipe (stdin)");
  } else {
    in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in[0] < 0) return base::ErrnoStatus(errno, "open /dev/null");
  }
  base::UniqueFd stdin_read(in[0]);
  base::UniqueFd stdin_write(in[1]);
  if (pipe2(out, O_CLOEXEC) != 0) return base::ErrnoStatus(errno, "pipe (stdout)");
  base::UniqueFd stdout_read(out[0]);
  base::UniqueFd stdout_write(out[1]);
  if (pipe2(err, O_CLOEXEC) != 0) return base::ErrnoStatus(errno, "pipe (stderr)");
  base::UniqueFd stderr_read(err[0]);
  base::UniqueFd stderr_write(err[1]);

  std::vector<std::string> argv_strings = {SelLdrPath()};
  argv_strings.insert(argv_strings.end(), command.flags.begin(), command.flags.end());
  if (!command.module.empty()) argv_strings.push_back(command.module);
  argv_strings.insert(argv_strings.end(), command.args.begin(), command.args.end());
  base::SpawnOptions spawn;
  // Its own process group: a module that signals its group reaches no test process.
  spawn.new_process_group = true;
  spawn.descriptor_limit = command.descriptor_limit.has_value()
                               ? absl::make_optional(rlimit{command.descriptor_limit->first,
                                                            command.descriptor_limit->second})
                               : absl::nullopt;
  // Nothing of this process reaches sel_ldr but what the command names.
  spawn.fds = {{stdin_read.get(), STDIN_FILENO},
               {stdout_write.get(), STDOUT_FILENO},
               {stderr_write.get(), STDERR_FILENO}};
  for (const auto& [target, source] : command.fds) spawn.fds.push_back({source, target});
  absl::StatusOr<pid_t> pid = base::Spawn(argv_strings, spawn);
  if (!pid.ok()) return pid.status();

  std::unique_ptr<SelLdrProcess> process(new SelLdrProcess());
  process->pid_ = *pid;
  process->stdin_ = std::move(stdin_write);
  process->stdout_ = std::move(stdout_read);
  process->stderr_ = std::move(stderr_read);
  process->pidfd_.reset(static_cast<int>(syscall(SYS_pidfd_open, *pid, 0)));
  if (!process->pidfd_.valid()) return base::ErrnoStatus(errno, "pidfd_open");
  return process;
}

SelLdrProcess::~SelLdrProcess() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    Reap(0);
  }
}

absl::Status SelLdrProcess::WriteStdin(absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(stdin_.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return base::ErrnoStatus(errno, "write to sel_ldr's stdin");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

void SelLdrProcess::Kill(int signal) {
  if (!reaped_) kill(pid_, signal);
}

void SelLdrProcess::Reap(int wait_flags) {
  if (reaped_) return;
  int status = 0;
  pid_t rc;
  do {
    rc = waitpid(pid_, &status, wait_flags);
  } while (rc < 0 && errno == EINTR);
  if (rc == pid_) {
    reaped_ = true;
    wait_status_ = status;
  }
}

bool SelLdrProcess::Pump(absl::Time deadline, bool reap) {
  if (reap) Reap(WNOHANG);
  pollfd fds[3];
  std::string* sinks[3] = {nullptr, nullptr, nullptr};
  base::UniqueFd* sources[3] = {nullptr, nullptr, nullptr};
  int count = 0;
  for (auto [fd, sink] : {std::make_pair(&stdout_, &out_), std::make_pair(&stderr_, &err_)}) {
    if (!fd->valid()) continue;
    sources[count] = fd;
    sinks[count] = sink;
    fds[count++] = {fd->get(), POLLIN, 0};
  }
  if (reap && !reaped_) fds[count++] = {pidfd_.get(), POLLIN, 0};
  if (count == 0) return false;
  const absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(left + absl::Milliseconds(1)));
  if (poll(fds, static_cast<nfds_t>(count), timeout_ms) < 0 && errno != EINTR) return false;
  char buffer[4096];
  for (int i = 0; i < count; ++i) {
    if (sources[i] == nullptr || fds[i].revents == 0) continue;
    ssize_t n = read(sources[i]->get(), buffer, sizeof(buffer));
    if (n > 0) {
      sinks[i]->append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      sources[i]->reset();  // End of file.
    }
  }
  if (reap) Reap(WNOHANG);
  return stdout_.valid() || stderr_.valid() || (reap && !reaped_);
}

absl::StatusOr<std::string> SelLdrProcess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    size_t newline = out_.find('\n');
    if (newline != std::string::npos) {
      std::string line = out_.substr(0, newline);
      out_.erase(0, newline + 1);
      return line;
    }
    if (!stdout_.valid()) {
      return absl::OutOfRangeError(
          absl::StrCat("sel_ldr's stdout ended; stdout so far: ", out_, "; stderr so far: ", err_));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("no line from sel_ldr within ", absl::FormatDuration(timeout),
                       "; stdout so far: ", out_, "; stderr so far: ", err_));
    }
    Pump(deadline, /*reap=*/false);
  }
}

absl::StatusOr<SelLdrResult> SelLdrProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  while (Pump(deadline, /*reap=*/true)) {
    if (absl::Now() >= deadline) {
      timed_out = true;
      kill(pid_, SIGKILL);
      // Whatever is still buffered, briefly; a pipe held open elsewhere must not hang us.
      const absl::Time grace = absl::Now() + absl::Seconds(2);
      while (Pump(grace, /*reap=*/true) && absl::Now() < grace) {
      }
      Reap(0);
      break;
    }
  }
  SelLdrResult result;
  result.exited = WIFEXITED(wait_status_);
  result.exit_status = result.exited ? WEXITSTATUS(wait_status_) : -1;
  result.signal = WIFSIGNALED(wait_status_) ? WTERMSIG(wait_status_) : 0;
  result.out = std::move(out_);
  result.err = std::move(err_);
  out_.clear();
  err_.clear();
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat("sel_ldr did not end within ",
                                                    absl::FormatDuration(timeout),
                                                    " and was killed: ", result.Describe()));
  }
  return result;
}

absl::StatusOr<SelLdrResult> RunSelLdr(const SelLdrCommand& command, absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process = SelLdrProcess::Start(command);
  if (!process.ok()) return process.status();
  return (*process)->Wait(timeout);
}

std::vector<std::string> Lines(absl::string_view text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::vector<CaseReport> CaseReports(absl::string_view out) {
  constexpr absl::string_view kExpected = " expected=";
  constexpr absl::string_view kActual = " actual=";
  std::vector<CaseReport> reports;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::ConsumePrefix(&line, "CASE ")) continue;
    const size_t expected = line.rfind(kExpected);
    if (expected == absl::string_view::npos) continue;
    const size_t actual = line.find(kActual, expected);
    if (actual == absl::string_view::npos) continue;
    const size_t value = expected + kExpected.size();
    reports.push_back({std::string(line.substr(0, expected)),
                       std::string(line.substr(value, actual - value)),
                       std::string(line.substr(actual + kActual.size()))});
  }
  return reports;
}

absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> MakeImcSocketPair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return base::ErrnoStatus(errno, "socketpair(AF_UNIX, SOCK_SEQPACKET)");
  }
  return std::make_pair(base::UniqueFd(fds[0]), base::UniqueFd(fds[1]));
}

absl::StatusOr<imc::SocketAddress> ReceiveServiceAddress(base::UniqueFd bootstrap,
                                                         absl::Duration timeout) {
  absl::StatusOr<imc::ConnectedSocket> socket =
      imc::ConnectedSocket::FromHostSocket(std::move(bootstrap));
  if (!socket.ok()) return socket.status();
  imc::WaitOptions wait;
  wait.deadline = absl::Now() + timeout;
  absl::StatusOr<imc::ReceivedMessage> message = socket->Receive({}, 1, wait);
  if (!message.ok()) return message.status();
  if (message->descriptors.size() != 1 ||
      message->descriptors[0].kind != imc::DescriptorKind::kSocketAddress) {
    return absl::InvalidArgumentError("the -X message is not one SocketAddress");
  }
  return imc::SocketAddress::Adopt(std::move(message->descriptors[0].fd));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

pid_t ModulePidOf(pid_t sel_ldr) {
  const std::string children =
      ReadFile(absl::StrCat("/proc/", sel_ldr, "/task/", sel_ldr, "/children"));
  std::vector<std::string> pids = absl::StrSplit(children, ' ', absl::SkipWhitespace());
  int pid = -1;
  if (pids.size() != 1 || !absl::SimpleAtoi(pids[0], &pid)) return -1;
  return pid;
}

absl::StatusOr<SelLdrResult> RunInspectingModule(const std::vector<std::string>& flags,
                                                 const std::function<void(pid_t)>& inspect) {
  SelLdrCommand command;
  command.flags = flags;
  command.module = ModulePath("escape");
  command.args = {"wait_for_stdin"};
  command.pipe_stdin = true;
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process = SelLdrProcess::Start(command);
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> started = (*process)->ReadLine();
  if (!started.ok()) return started.status();
  if (*started != "escape: wait_for_stdin") {
    return absl::InternalError(absl::StrCat("the module said '", *started, "'"));
  }
  const pid_t module = ModulePidOf((*process)->pid());
  if (module <= 0) return absl::InternalError("sel_ldr has no single child");
  inspect(module);
  RETURN_IF_ERROR((*process)->WriteStdin("0\n"));
  return (*process)->Wait();
}

std::string NamespaceOf(pid_t pid, absl::string_view kind) {
  const std::string link = absl::StrCat("/proc/", pid, "/ns/", kind);
  char target[128];
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  return n < 0 ? absl::StrCat("unreadable ", link) : std::string(target, static_cast<size_t>(n));
}

}  // namespace tests
