#include "tools/launcher/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/errno_status.h"
#include "base/spawn.h"
#include "base/status_macros.h"
#include "imc/cancellation.h"
#include "tools/runfiles/runfiles.h"

namespace launcher {
namespace {

constexpr int kBootstrapFd = 3;  // The child's -X fd; granted fds follow it.

bool IsExecutable(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::string SelfExecutable() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

const char* GrantFlag(GrantedFd::Kind kind) {
  switch (kind) {
    case GrantedFd::Kind::kReadOnly:
      return "-r";
    case GrantedFd::Kind::kWriteOnly:
      return "-w";
    case GrantedFd::Kind::kImc:
      return "-i";
    default:
      return "-h";
  }
}

// sel_ldr's own lines from its stderr ("sel_ldr: error: ...").
std::string LoaderMessages(const std::string& stderr_text) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(stderr_text, '\n')) {
    if (absl::StartsWith(line, "sel_ldr: ")) lines.emplace_back(line);
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace

absl::Status ModuleExit::ToStatus() const {
  std::string detail = message.empty() ? "" : absl::StrCat(": ", message);
  if (signal != 0) {
    return absl::AbortedError(absl::StrCat("sel_ldr was killed by signal ", signal, detail));
  }
  switch (status) {
    case 0:
      return absl::OkStatus();
    case 159:
      return absl::PermissionDeniedError(
          absl::StrCat("the module broke the sandbox policy", detail));
    case 125:
      return absl::InternalError(absl::StrCat("sel_ldr could not set up the sandbox", detail));
    case 126:
      return absl::FailedPreconditionError(absl::StrCat("not a runnable module", detail));
    case 127:
      return absl::NotFoundError(absl::StrCat("module or sel_ldr not found", detail));
    case 2:
      return absl::InvalidArgumentError(absl::StrCat("sel_ldr usage error", detail));
    default:
      break;
  }
  if (status > 128) {
    return absl::AbortedError(absl::StrCat("the module died of signal ", status - 128, detail));
  }
  return absl::UnknownError(absl::StrCat("the module exited with status ", status, detail));
}

// sel_ldr's command line for `options`; the fds of the grants are appended to `sources`
// (the child's fds, in order), and the flags name them by their place there.
std::vector<std::string> SelLdrCommandLine(const std::string& sel_ldr, const LaunchOptions& options,
                                           std::vector<int>* sources) {
  std::vector<std::string> args = {sel_ldr};
  if (options.trace) args.push_back("-v");
  args.push_back("-X");
  args.push_back(absl::StrCat(kBootstrapFd));
  for (const GrantedFd& grant : options.descriptors) {
    const int child_fd = static_cast<int>(sources->size());
    sources->push_back(grant.fd.get());
    args.push_back(GrantFlag(grant.kind));
    args.push_back(absl::StrCat(grant.module_descriptor, ":", child_fd));
  }
  if (options.memory_limit != 0) {
    args.push_back(absl::StrCat("--memory-limit=", options.memory_limit));
  }
  for (const auto& [name, value] : options.environment) {
    args.push_back("-E");
    args.push_back(absl::StrCat(name, "=", value));
  }
  args.push_back("--");
  args.push_back(options.module_path);
  args.insert(args.end(), options.args.begin(), options.args.end());
  return args;
}

struct Module::State {
  pid_t pid = -1;
  base::UniqueFd pidfd;
  absl::optional<imc::SocketAddress> address;
  bool reaped = false;
  ModuleExit exit;

  // Captured output, filled by `reader` until both pipes reach end of file.
  base::UniqueFd stdout_pipe;
  base::UniqueFd stderr_pipe;
  std::thread reader;
  mutable std::mutex mu;
  std::string captured_stdout;  // Guarded by mu.
  std::string captured_stderr;  // Guarded by mu.

  ~State() {
    if (pid > 0 && !reaped) {
      syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
      siginfo_t info;
      waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED);
    }
    if (reader.joinable()) reader.join();
  }

  // Receives sel_ldr's service address over `bootstrap` within `timeout`. Errors:
  // DeadlineExceeded, or FailedPrecondition with how sel_ldr ended if it refused the module.
  absl::Status AwaitAddress(base::UniqueFd bootstrap, absl::Duration timeout) {
    absl::StatusOr<imc::ConnectedSocket> channel =
        imc::ConnectedSocket::FromHostSocket(std::move(bootstrap));
    if (!channel.ok()) return channel.status();
    imc::WaitOptions wait;
    wait.deadline = absl::Now() + timeout;
    absl::StatusOr<imc::ReceivedMessage> hello = channel->Receive({}, 1, wait);
    if (!hello.ok()) {
      if (base::ErrnoOf(hello.status()) == ETIMEDOUT) {
        return absl::DeadlineExceededError(
            absl::StrCat("sel_ldr sent no service address within ", absl::FormatDuration(timeout)));
      }
      // sel_ldr closed the channel: it refused the module or failed to start it.
      RETURN_IF_ERROR(Reap(absl::Now() + absl::Seconds(5)));
      absl::Status ended = exit.ToStatus();
      return absl::FailedPreconditionError(
          absl::StrCat("sel_ldr did not start the module (exit status ", exit.status,
                       "): ", ended.ok() ? "it exited" : ended.message()));
    }
    if (hello->descriptors.size() != 1 ||
        hello->descriptors[0].kind != imc::DescriptorKind::kSocketAddress) {
      return absl::InternalError("sel_ldr's bootstrap message holds no SocketAddress");
    }
    address = imc::SocketAddress::Adopt(std::move(hello->descriptors[0].fd));
    return absl::OkStatus();
  }

  void ReadOutputs() {
    struct pollfd fds[2] = {{stdout_pipe.get(), POLLIN, 0}, {stderr_pipe.get(), POLLIN, 0}};
    std::string* sinks[2] = {&captured_stdout, &captured_stderr};
    int open = (fds[0].fd >= 0) + (fds[1].fd >= 0);
    char buffer[4096];
    while (open > 0) {
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
        if (n > 0) {
          std::lock_guard<std::mutex> lock(mu);
          sinks[i]->append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          fds[i].fd = -1;
          --open;
        }
      }
    }
  }

  // Reaps sel_ldr if it has exited by `deadline`.
  absl::Status Reap(absl::Time deadline) {
    if (reaped) return absl::OkStatus();
    imc::WaitOptions wait;
    wait.deadline = deadline;
    absl::Status exited = imc::WaitFor(pidfd.get(), POLLIN, wait);
    if (base::ErrnoOf(exited) == ETIMEDOUT) {
      return absl::DeadlineExceededError(absl::StrCat("sel_ldr (pid ", pid, ") still runs"));
    }
    RETURN_IF_ERROR(exited);
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED) != 0) {
      return base::ErrnoStatus(errno, "waitid(sel_ldr)");
    }
    reaped = true;
    if (info.si_code == CLD_EXITED) {
      exit.status = info.si_status;
    } else {
      exit.signal = info.si_status;
      exit.status = 128 + info.si_status;
    }
    // The output is complete once sel_ldr is gone (the module holds no copy of the pipes).
    if (reader.joinable()) reader.join();
    std::lock_guard<std::mutex> lock(mu);
    exit.message = LoaderMessages(captured_stderr);
    return absl::OkStatus();
  }
};

absl::StatusOr<std::string> FindSelLdr() {
  std::vector<std::string> tried;
  auto consider = [&tried](const std::string& path) {
    tried.push_back(path);
    return IsExecutable(path);
  };
  if (const char* env = getenv("SEL_LDR"); env != nullptr && *env != '\0') {
    if (consider(env)) return std::string(env);
  }
  if (absl::StatusOr<std::string> path = runfiles::Runfile("sel_ldr/sel_ldr"); path.ok()) {
    if (consider(*path)) return *path;
  } else {
    tried.push_back("runfiles");
  }
  const std::string self = SelfExecutable();
  // bazel-bin/<package>/<tool>: look for bazel-bin/sel_ldr/sel_ldr above it.
  std::string dir = self.substr(0, self.rfind('/'));
  for (int up = 0; up < 4 && !dir.empty(); ++up) {
    std::string path = dir + "/sel_ldr/sel_ldr";
    if (consider(path)) return path;
    dir = dir.substr(0, dir.rfind('/'));
  }
  if (const char* path_env = getenv("PATH"); path_env != nullptr) {
    for (absl::string_view entry : absl::StrSplit(path_env, ':', absl::SkipEmpty())) {
      std::string path = absl::StrCat(entry, "/sel_ldr");
      if (consider(path)) return path;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("sel_ldr not found; tried $SEL_LDR, runfiles, "
                   "bazel-bin and PATH: ",
                   absl::StrJoin(tried, ", ")));
}

Module::Module(std::unique_ptr<State> state) : state_(std::move(state)) {}
Module::Module(Module&&) noexcept = default;
Module& Module::operator=(Module&&) noexcept = default;
Module::~Module() = default;

absl::StatusOr<Module> Module::Launch(LaunchOptions options) {
  std::string sel_ldr = options.sel_ldr_path;
  if (sel_ldr.empty()) {
    ASSIGN_OR_RETURN(sel_ldr, FindSelLdr());
  } else if (!IsExecutable(sel_ldr)) {
    return absl::NotFoundError(absl::StrCat("sel_ldr not found: ", sel_ldr));
  }
  struct stat st;
  if (stat(options.module_path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("module not found: ", options.module_path, ": ", strerror(errno)));
  }

  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return base::ErrnoStatus(errno, "socketpair(bootstrap)");
  }
  base::UniqueFd bootstrap(pair[0]);
  base::UniqueFd child_bootstrap(pair[1]);
  base::UniqueFd dev_null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!dev_null.valid()) return base::ErrnoStatus(errno, "open /dev/null");

  auto state = std::make_unique<State>();
  // The child's fds 0..: stdin, stdout, stderr, the bootstrap end, then the grants.
  std::vector<int> sources = {dev_null.get(), STDOUT_FILENO, STDERR_FILENO, child_bootstrap.get()};
  base::UniqueFd child_out, child_err;
  auto make_pipe = [](base::UniqueFd* read_end, base::UniqueFd* write_end) -> absl::Status {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return base::ErrnoStatus(errno, "pipe2");
    read_end->reset(fds[0]);
    write_end->reset(fds[1]);
    return absl::OkStatus();
  };
  const Output modes[2] = {options.stdout_mode, options.stderr_mode};
  base::UniqueFd* read_ends[2] = {&state->stdout_pipe, &state->stderr_pipe};
  base::UniqueFd* write_ends[2] = {&child_out, &child_err};
  for (int i = 0; i < 2; ++i) {
    if (modes[i] == Output::kCapture) {
      RETURN_IF_ERROR(make_pipe(read_ends[i], write_ends[i]));
      sources[1 + i] = write_ends[i]->get();
    } else if (modes[i] == Output::kDiscard) {
      sources[1 + i] = dev_null.get();
    }
  }

  std::vector<std::string> args = SelLdrCommandLine(sel_ldr, options, &sources);
  base::SpawnOptions spawn;
  spawn.die_with_parent = true;  // sel_ldr dies with its embedder.
  for (size_t i = 0; i < sources.size(); ++i) {
    spawn.fds.push_back({sources[i], static_cast<int>(i)});
  }
  absl::StatusOr<pid_t> child = base::Spawn(args, spawn);
  if (!child.ok()) {
    return absl::Status(child.status().code(),
                        absl::StrCat("cannot start sel_ldr: ", child.status().message()));
  }

  state->pid = *child;
  state->pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, *child, 0)));
  if (!state->pidfd.valid()) {
    int error = errno;
    kill(*child, SIGKILL);
    waitpid(*child, nullptr, 0);
    state->pid = -1;
    return base::ErrnoStatus(error, "pidfd_open(sel_ldr)");
  }
  child_bootstrap.reset();
  child_out.reset();
  child_err.reset();
  for (GrantedFd& grant : options.descriptors) grant.fd.reset();  // sel_ldr has them now.
  if (state->stdout_pipe.valid() || state->stderr_pipe.valid()) {
    State* raw = state.get();
    state->reader = std::thread([raw] { raw->ReadOutputs(); });
  }

  RETURN_IF_ERROR(state->AwaitAddress(std::move(bootstrap), options.start_timeout));
  return Module(std::move(state));
}

const imc::SocketAddress& Module::address() const { return *state_->address; }

void Module::CloseAddress() { state_->address.reset(); }

absl::StatusOr<imc::ConnectedSocket> Module::Connect(absl::Time deadline) const {
  if (!state_->address.has_value()) {
    return absl::FailedPreconditionError("the launcher's copy of the address was closed");
  }
  imc::ConnectOptions options;
  options.wait_for_accept = true;
  options.wait.deadline = deadline;
  return state_->address->Connect(options);
}

absl::StatusOr<ModuleExit> Module::Wait(absl::Time deadline) {
  RETURN_IF_ERROR(state_->Reap(deadline));
  return state_->exit;
}

absl::Status Module::Kill() {
  if (state_->reaped) return absl::OkStatus();
  if (syscall(SYS_pidfd_send_signal, state_->pidfd.get(), SIGKILL, nullptr, 0) != 0 &&
      errno != ESRCH) {
    return base::ErrnoStatus(errno, "kill sel_ldr");
  }
  return absl::OkStatus();
}

pid_t Module::pid() const { return state_->reaped ? -1 : state_->pid; }

std::string Module::CapturedStdout() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->captured_stdout;
}

std::string Module::CapturedStderr() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->captured_stderr;
}

}  // namespace launcher
