// sandbox_bench: sel_ldr against the same work done without a sandbox, measured in the same
// run: a trapped NaCl null call against a bare seccomp user-notification round trip, IMC
// between two sandboxed modules against the imc library between two plain processes, a
// launch against fork+exec, and the memory of the supervisor of an idle module. See --help,
// and bench_runner.h for how figures are measured.
//
// sel_ldr and the modules (tools/bench/modules) come from the runfiles. Modules are driven
// over their stdin and stdout with the batch protocol of modules/batch_io.h; the process
// plumbing is in sandbox_bench_process.h.
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "imc/imc.h"
#include "sel_ldr/loader.h"
#include "sel_ldr/options.h"
#include "sel_ldr/seccomp_unotify.h"
#include "syscalls/nacl_abi.h"
#include "tools/bench/bench_runner.h"
#include "tools/bench/sandbox_bench_density.h"
#include "tools/bench/sandbox_bench_process.h"
#include "tools/launcher/launcher.h"

namespace {

using sandbox_bench::BatchChannel;
using sandbox_bench::ChildProcess;
using sandbox_bench::FdMapping;
using sandbox_bench::PinProcess;
using sandbox_bench::ReadProcKib;
using sandbox_bench::Runfile;
using sandbox_bench::SeqpacketPair;

// Runfiles, relative to the workspace.
constexpr char kSelLdr[] = "sel_ldr/sel_ldr";
constexpr char kNullLoopModule[] = "tools/bench/modules/null_loop.nexe";
constexpr char kPingPongModule[] = "tools/bench/modules/ping_pong.nexe";
constexpr char kHelloModule[] = "tools/bench/modules/hello.nexe";

// The Linux number a module's nacl_null() issues; the bare baseline traps the same one.
constexpr int kNullCallNumber = NACL_ABI_SYSCALL_BASE + NACL_sys_null;
// The module descriptor that `sel_ldr -i 3:3` makes of host fd 3.
constexpr int kModuleSocket = 3;
constexpr size_t kMessageBytes = 64;  // As in modules/ping_pong.c.
// How many idle modules the memory rows start; their figure is the median.
constexpr int kIdleModules = 10;
// How long an idle module settles before its memory is read.
constexpr absl::Duration kIdleSettle = absl::Milliseconds(100);
// How long a process that was told to end may take.
constexpr absl::Duration kExitTimeout = absl::Seconds(20);

absl::Status Errno(const char* what) { return base::ErrnoStatus(errno, what); }

absl::Status Unexpected(absl::string_view what) {
  return absl::InternalError(absl::StrCat("unexpected ", what));
}

// --- Modules ---------------------------------------------------------------------------

enum class Isolation {
  kSelLdr,  // The module runs under sel_ldr.
  kNone,    // The module's binary runs directly, as a plain static program.
};

// A module process that speaks the batch protocol.
class ModuleProcess {
 public:
  // Starts `module` (a runfiles path) with `args` as `isolation` says, on `cpu`, and waits
  // until it reports its pid. Under sel_ldr, `imc_socket` (if >= 0) is handed to the module
  // as its descriptor 3, a ConnectedSocket.
  absl::Status Start(Isolation isolation, const char* module, const std::vector<std::string>& args,
                     int cpu, int imc_socket = -1) {
    ASSIGN_OR_RETURN(std::string module_path, Runfile(module));
    std::vector<std::string> argv;
    if (isolation == Isolation::kSelLdr) {
      ASSIGN_OR_RETURN(std::string sel_ldr, Runfile(kSelLdr));
      argv.push_back(sel_ldr);
      if (imc_socket >= 0) {
        argv.push_back("-i");
        argv.push_back(absl::StrCat(kModuleSocket, ":", kModuleSocket));
      }
      argv.push_back("--");
    }
    argv.push_back(module_path);
    argv.insert(argv.end(), args.begin(), args.end());
    RETURN_IF_ERROR(channel_.Open());
    std::vector<FdMapping> fds = channel_.PeerStdio();
    if (imc_socket >= 0) fds.push_back({imc_socket, kModuleSocket});
    RETURN_IF_ERROR(process_.Exec(argv, fds, cpu));
    channel_.ClosePeerEnds();
    ASSIGN_OR_RETURN(module_pid_, channel_.ReadPid());
    return absl::OkStatus();
  }

  // sel_ldr's pid, or the module's when it runs directly.
  pid_t process_pid() const { return process_.pid(); }
  // The module's pid, as it reported it.
  pid_t module_pid() const { return module_pid_; }
  BatchChannel& channel() { return channel_; }

  // Ends the module's input and waits for it (and sel_ldr) to exit with status 0.
  absl::Status Stop() {
    channel_.Close();
    return process_.WaitWithin(kExitTimeout);
  }

 private:
  ChildProcess process_;
  BatchChannel channel_;
  pid_t module_pid_ = -1;
};

// --- null_syscall ----------------------------------------------------------------------

// nacl_null() in a loop inside a module under sel_ldr.
class SandboxedNullCalls : public bench::Workload {
 public:
  SandboxedNullCalls(int supervisor_cpu, int module_cpu)
      : supervisor_cpu_(supervisor_cpu), module_cpu_(module_cpu) {}

  absl::Status SetUp() override {
    // The module inherits sel_ldr's CPU; a CPU of its own is set once it runs.
    RETURN_IF_ERROR(module_.Start(Isolation::kSelLdr, kNullLoopModule, {}, supervisor_cpu_));
    if (module_cpu_ != supervisor_cpu_) return PinProcess(module_.module_pid(), module_cpu_);
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override { return module_.channel().RunBatch(iterations); }

  absl::Status TearDown() override { return module_.Stop(); }

 private:
  const int supervisor_cpu_;
  const int module_cpu_;
  ModuleProcess module_;
};

// Returns a BPF program made with libseccomp that notifies on `number` and allows all else.
absl::StatusOr<std::vector<sock_filter>> NotifyOnlyFilter(int number) {
  std::unique_ptr<void, void (*)(void*)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (ctx == nullptr) return base::ErrnoStatus(ENOMEM, "seccomp_init");
  int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, number, 0);
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp_rule_add");
  base::UniqueFd memfd(memfd_create("notify-filter", MFD_CLOEXEC));
  if (!memfd.valid()) return Errno("memfd_create");
  rc = seccomp_export_bpf(ctx.get(), memfd.get());
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp_export_bpf");
  struct stat st;
  if (fstat(memfd.get(), &st) != 0) return Errno("fstat");
  if (st.st_size <= 0 || st.st_size % sizeof(sock_filter) != 0) {
    return Unexpected("BPF program size");
  }
  std::vector<sock_filter> program(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
  if (pread(memfd.get(), program.data(), static_cast<size_t>(st.st_size), 0) != st.st_size) {
    return Errno("read back the BPF program");
  }
  return program;
}

// Sends `fd` over `socket` (SCM_RIGHTS) with one byte. Only system calls: a forked child
// may call it.
bool SendFd(int socket, int fd) {
  char byte = 'l';
  iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
  return sendmsg(socket, &msg, MSG_NOSIGNAL) == 1;
}

absl::StatusOr<base::UniqueFd> ReceiveFd(int socket) {
  char byte;
  iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t received;
  do {
    received = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received < 0) return Errno("recvmsg(listener)");
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (received != 1 || cmsg == nullptr || cmsg->cmsg_level != SOL_SOCKET ||
      cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
    return absl::UnavailableError("the notifying child sent no listener (it died?)");
  }
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
  return base::UniqueFd(fd);
}

// The body of the baseline's notifying child: installs `program` with a listener, sends the
// listener over `handoff`, and serves batches of the trapped call.
int NotifyingCaller(const std::vector<sock_filter>& program, int handoff) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 10;
  sock_fprog fprog = {static_cast<unsigned short>(program.size()),
                      const_cast<sock_filter*>(program.data())};
  const long listener =
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
  if (listener < 0) return 11;
  const bool sent = SendFd(handoff, static_cast<int>(listener));
  close(static_cast<int>(listener));  // Not trapped: only kNullCallNumber is.
  close(handoff);
  if (!sent) return 12;
  return sandbox_bench::ServeBatches([] { return syscall(kNullCallNumber) == 0; });
}

// The least a user-notification round trip costs: a forked child whose libseccomp filter
// notifies on the null call's number (and allows everything else) makes the calls, and one
// thread here answers each with 0. SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP is set when the kernel
// has it, as sel_ldr sets it.
class UnotifyNullCalls : public bench::Workload {
 public:
  UnotifyNullCalls(int responder_cpu, int caller_cpu)
      : responder_cpu_(responder_cpu), caller_cpu_(caller_cpu) {}

  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(std::vector<sock_filter> program, NotifyOnlyFilter(kNullCallNumber));
    ASSIGN_OR_RETURN(auto handoff, SeqpacketPair());
    RETURN_IF_ERROR(channel_.Open());
    std::vector<FdMapping> fds = channel_.PeerStdio();
    fds.push_back({handoff.second.get(), 3});
    RETURN_IF_ERROR(
        caller_.Fork(fds, caller_cpu_, [&program] { return NotifyingCaller(program, 3); }));
    channel_.ClosePeerEnds();
    handoff.second.reset();
    ASSIGN_OR_RETURN(listener_, ReceiveFd(handoff.first.get()));
    RETURN_IF_ERROR(channel_.ReadPid().status());
    // EINVAL: a kernel before 6.6, which wakes the responder the plain way (as sel_ldr does).
    const int flags_set =
        ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    if (flags_set != 0 && errno != EINVAL) return Errno("ioctl(SECCOMP_IOCTL_NOTIF_SET_FLAGS)");
    responder_ = std::thread([this] { Respond(); });
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override { return channel_.RunBatch(iterations); }

  absl::Status TearDown() override {
    channel_.Close();
    absl::Status status = caller_.WaitWithin(kExitTimeout);
    // With the child reaped the filter has no users: the responder's RECV fails (ENOENT).
    if (responder_.joinable()) responder_.join();
    if (status.ok() && !responder_error_.empty()) status = absl::InternalError(responder_error_);
    return status;
  }

 private:
  void Respond() {
    if (!bench::PinToCpu(responder_cpu_).ok()) responder_error_ = "cannot pin the responder";
    const int listener = listener_.get();
    for (;;) {
      seccomp_notif request;
      memset(&request, 0, sizeof(request));
      if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) {
        if (errno == EINTR) continue;
        if (errno != ENOENT) responder_error_ = absl::StrCat("RECV: ", strerror(errno));
        return;
      }
      seccomp_notif_resp response;
      memset(&response, 0, sizeof(response));
      response.id = request.id;  // Answers val 0, error 0.
      if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) != 0 && errno != ENOENT) {
        responder_error_ = absl::StrCat("SEND: ", strerror(errno));
        return;
      }
    }
  }

  const int responder_cpu_;
  const int caller_cpu_;
  BatchChannel channel_;
  ChildProcess caller_;
  base::UniqueFd listener_;
  std::thread responder_;
  std::string responder_error_;  // Written by the responder, read after joining it.
};

// --- module_ping_pong ------------------------------------------------------------------

// Two modules under two sel_ldr processes, joined by a socketpair given to each with
// `-i 3:FD`: the pinging module (on `ping_cpu` with its sel_ldr) sends 64 bytes with
// imc_sendmsg and waits for the echo module (on `echo_cpu`) to send them back.
class SandboxedPingPong : public bench::Workload {
 public:
  SandboxedPingPong(int ping_cpu, int echo_cpu) : ping_cpu_(ping_cpu), echo_cpu_(echo_cpu) {}

  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(auto ends, SeqpacketPair());
    RETURN_IF_ERROR(
        echo_.Start(Isolation::kSelLdr, kPingPongModule, {"echo"}, echo_cpu_, ends.second.get()));
    RETURN_IF_ERROR(
        ping_.Start(Isolation::kSelLdr, kPingPongModule, {"ping"}, ping_cpu_, ends.first.get()));
    // The ends close here: each sel_ldr holds the only copy of its own.
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override { return ping_.channel().RunBatch(iterations); }

  absl::Status TearDown() override {
    // The pinging module exits, its socket closes, and the echo module's recvmsg fails.
    absl::Status status = ping_.Stop();
    absl::Status echo_status = echo_.Stop();
    return status.ok() ? echo_status : status;
  }

 private:
  const int ping_cpu_;
  const int echo_cpu_;
  ModuleProcess ping_;
  ModuleProcess echo_;
};

imc::OutgoingMessage Message(const iovec* data) {
  imc::OutgoingMessage message;
  message.data = absl::MakeConstSpan(data, 1);
  return message;
}

// The echo process of ImcPingPong: sends back each message until the peer closes.
int ImcEcho(const imc::ConnectedSocket& socket) {
  char buffer[kMessageBytes];
  iovec in = {buffer, sizeof(buffer)};
  for (;;) {
    absl::StatusOr<imc::ReceivedMessage> message = socket.Receive({&in, 1}, 0);
    if (!message.ok()) return base::ErrnoOf(message.status()) == EPIPE ? 0 : 1;
    iovec out = {buffer, message->bytes};
    if (!socket.Send(Message(&out)).ok()) return 2;
  }
}

// The same exchange between two plain processes with the imc library: this process (on the
// benchmark's CPU) pings over ConnectedSocket::FromHostSocket(one end of a socketpair), a
// forked process on `echo_cpu` echoes.
class ImcPingPong : public bench::Workload {
 public:
  explicit ImcPingPong(int echo_cpu) : echo_cpu_(echo_cpu) {}

  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(auto ends, SeqpacketPair());
    RETURN_IF_ERROR(echo_.Fork({{ends.second.get(), 3}}, echo_cpu_, [] {
      absl::StatusOr<imc::ConnectedSocket> socket =
          imc::ConnectedSocket::FromHostSocket(base::UniqueFd(3));
      return socket.ok() ? ImcEcho(*socket) : 3;
    }));
    ends.second.reset();
    ASSIGN_OR_RETURN(imc::ConnectedSocket socket,
                     imc::ConnectedSocket::FromHostSocket(std::move(ends.first)));
    socket_.emplace(std::move(socket));
    memset(buffer_, 'p', sizeof(buffer_));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    iovec data = {buffer_, sizeof(buffer_)};
    for (int64_t i = 0; i < iterations; ++i) {
      RETURN_IF_ERROR(socket_->Send(Message(&data)));
      ASSIGN_OR_RETURN(imc::ReceivedMessage reply, socket_->Receive({&data, 1}, 0));
      if (reply.bytes != sizeof(buffer_)) return Unexpected("reply size");
    }
    return absl::OkStatus();
  }

  absl::Status TearDown() override {
    socket_.reset();
    return echo_.WaitWithin(kExitTimeout);
  }

 private:
  const int echo_cpu_;
  ChildProcess echo_;
  std::optional<imc::ConnectedSocket> socket_;
  char buffer_[kMessageBytes];
};

// --- launch_hello ----------------------------------------------------------------------

// How LaunchHello starts the hello module.
enum class Launch {
  kSelLdr,  // sel_ldr -- hello.nexe.
  kPlain,   // fork+exec of hello.nexe.
  // The floors of the launch rows (docs/performance.md section 8):
  kForkedLoader,  // This process (warm, single-threaded while it runs) forks and the child
                  // runs sel_ldr's RunLoader: a zygote's best case, with no request to it
                  // and no exec of sel_ldr.
  kTwoProcesses,  // fork+exec of `sel_ldr --version`, then of hello.nexe: any design with a
                  // supervisor process per module, before any sandboxing.
};

// Starts the hello module as `launch` says and waits for its exit status 0, once per
// operation. Its stdin and stdout are /dev/null; everything runs on the benchmark's CPU.
class LaunchHello : public bench::Workload {
 public:
  explicit LaunchHello(Launch launch) : launch_(launch) {}

  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(std::string module, Runfile(kHelloModule));
    ASSIGN_OR_RETURN(std::string sel_ldr, Runfile(kSelLdr));
    switch (launch_) {
      case Launch::kSelLdr:
        programs_ = {{sel_ldr, "--", module}};
        break;
      case Launch::kPlain:
        programs_ = {{module}};
        break;
      case Launch::kForkedLoader: {
        ASSIGN_OR_RETURN(loader_options_, sel_ldr::ParseLoaderOptions({sel_ldr, "--", module}));
        break;
      }
      case Launch::kTwoProcesses:
        programs_ = {{sel_ldr, "--version"}, {module}};
        break;
    }
    dev_null_.reset(open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!dev_null_.valid()) return Errno("open /dev/null");
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    const std::vector<FdMapping> stdio = {{dev_null_.get(), STDIN_FILENO},
                                          {dev_null_.get(), STDOUT_FILENO}};
    for (int64_t i = 0; i < iterations; ++i) {
      if (launch_ == Launch::kForkedLoader) {
        ChildProcess loader;
        RETURN_IF_ERROR(
            loader.Fork(stdio, -1, [this] { return sel_ldr::RunLoader(loader_options_); }));
        RETURN_IF_ERROR(loader.Wait());
      }
      for (const std::vector<std::string>& argv : programs_) {
        ChildProcess child;
        RETURN_IF_ERROR(child.Exec(argv, stdio, -1));
        RETURN_IF_ERROR(child.Wait());
      }
    }
    return absl::OkStatus();
  }

 private:
  const Launch launch_;
  std::vector<std::vector<std::string>> programs_;  // Exec'd one after the other.
  sel_ldr::LoaderOptions loader_options_;
  base::UniqueFd dev_null_;
};

// Starts the hello module through the embedder's launcher API and waits for its exit status
// 0, once per operation: launcher::Module::Launch (sel_ldr -X, stdout discarded, stderr
// forwarded as the density rows do) and Module::Wait. The baseline is LaunchHello's plain
// fork+exec of the same static binary.
class LaunchHelloLauncher : public bench::Workload {
 public:
  absl::Status SetUp() override {
    ASSIGN_OR_RETURN(module_, Runfile(kHelloModule));
    ASSIGN_OR_RETURN(sel_ldr_, Runfile(kSelLdr));
    return absl::OkStatus();
  }

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) {
      launcher::LaunchOptions options;
      options.sel_ldr_path = sel_ldr_;
      options.module_path = module_;
      options.stdout_mode = launcher::Output::kDiscard;
      options.stderr_mode = launcher::Output::kForward;
      ASSIGN_OR_RETURN(launcher::Module module, launcher::Module::Launch(std::move(options)));
      ASSIGN_OR_RETURN(launcher::ModuleExit exit, module.Wait(absl::Now() + kExitTimeout));
      RETURN_IF_ERROR(exit.ToStatus());
    }
    return absl::OkStatus();
  }

 private:
  std::string module_;
  std::string sel_ldr_;
};

// --- Idle memory -----------------------------------------------------------------------

enum class MemoryFigure {
  kRss,  // VmRSS of /proc/PID/status: resident pages, shared ones counted in full.
  kPss,  // Pss of /proc/PID/smaps_rollup: shared pages divided among their sharers.
};

absl::StatusOr<double> ReadMemoryKib(pid_t pid, MemoryFigure figure) {
  if (figure == MemoryFigure::kRss) {
    return ReadProcKib(absl::StrCat("/proc/", pid, "/status"), "VmRSS:");
  }
  return ReadProcKib(absl::StrCat("/proc/", pid, "/smaps_rollup"), "Pss:");
}

// kIdleModules null_loop modules idling in read() on their stdin, all at once: under
// sel_ldr (the figure is sel_ldr's own, the supervisor's, not the module process's) or run
// directly. A figure is the median over the processes, in KiB.
class IdleModules : public bench::Workload {
 public:
  IdleModules(Isolation isolation, MemoryFigure figure) : isolation_(isolation), figure_(figure) {}

  absl::Status SetUp() override {
    for (int i = 0; i < kIdleModules; ++i) {
      modules_.push_back(std::make_unique<ModuleProcess>());
      RETURN_IF_ERROR(modules_.back()->Start(isolation_, kNullLoopModule, {}, -1));
    }
    absl::SleepFor(kIdleSettle);  // Until each blocks in read() (and its supervisor settles).
    return absl::OkStatus();
  }

  absl::Status Run(int64_t) override { return absl::OkStatus(); }

  absl::StatusOr<double> Measure(int64_t) override {
    std::vector<double> kib;
    for (const auto& module : modules_) {
      ASSIGN_OR_RETURN(double figure, ReadMemoryKib(module->process_pid(), figure_));
      kib.push_back(figure);
    }
    // The middle process (of an even count, the mean of the middle two).
    std::sort(kib.begin(), kib.end());
    const size_t n = kib.size();
    return n % 2 == 1 ? kib[n / 2] : (kib[n / 2 - 1] + kib[n / 2]) / 2;
  }

  absl::Status TearDown() override {
    absl::Status status;
    for (auto& module : modules_) module->channel().Close();  // All end at once.
    for (auto& module : modules_) {
      absl::Status stopped = module->Stop();
      if (status.ok()) status = stopped;
    }
    modules_.clear();
    return status;
  }

 private:
  const Isolation isolation_;
  const MemoryFigure figure_;
  std::vector<std::unique_ptr<ModuleProcess>> modules_;
};

// ---------------------------------------------------------------------------------------

std::vector<bench::Comparison> MakeComparisons(const bench::Placement& placement,
                                               int density_modules) {
  const int main_cpu = placement.main_cpu;
  const int peer_cpu = placement.peer_cpu;
  std::vector<bench::Comparison> comparisons;
  comparisons.push_back(
      {"null_syscall",
       "one nacl_null() from a module under sel_ldr (module and sel_ldr on one CPU) vs one "
       "call of the same number trapped by a bare filter (notify on it, allow the rest) and "
       "answered by a bare RECV/SEND thread, on the same CPU",
       std::make_unique<SandboxedNullCalls>(main_cpu, main_cpu),
       std::make_unique<UnotifyNullCalls>(main_cpu, main_cpu)});
  comparisons.push_back(
      {"null_syscall_cross_cpu",
       "null_syscall with the calling process on the peer CPU and sel_ldr (or the bare "
       "responder) on the benchmark's CPU",
       std::make_unique<SandboxedNullCalls>(main_cpu, peer_cpu),
       std::make_unique<UnotifyNullCalls>(main_cpu, peer_cpu)});
  comparisons.push_back(
      {"module_ping_pong",
       "one round trip of 64 bytes between two modules under two sel_ldr processes "
       "(imc_sendmsg/imc_recvmsg over a socketpair given with -i 3:FD; the pinging side on "
       "the benchmark's CPU, the echoing side on the peer CPU) vs between two plain processes "
       "with ConnectedSocket::FromHostSocket + Send/Receive, placed alike",
       std::make_unique<SandboxedPingPong>(main_cpu, peer_cpu),
       std::make_unique<ImcPingPong>(peer_cpu)});
  comparisons.push_back({"module_ping_pong_one_cpu",
                         "module_ping_pong with every process on the benchmark's CPU",
                         std::make_unique<SandboxedPingPong>(main_cpu, main_cpu),
                         std::make_unique<ImcPingPong>(main_cpu)});
  comparisons.push_back(
      {"launch_hello",
       "sel_ldr starting the hello module (stdio, a thread) until it exits 0 vs fork+exec of "
       "the same static binary, on the benchmark's CPU",
       std::make_unique<LaunchHello>(Launch::kSelLdr),
       std::make_unique<LaunchHello>(Launch::kPlain)});
  comparisons.push_back(
      {"launch_hello_launcher",
       "launcher::Module::Launch of the hello module (sel_ldr -X, stdout discarded) and "
       "Module::Wait until it exits 0 vs fork+exec of the same static binary, on the "
       "benchmark's CPU",
       std::make_unique<LaunchHelloLauncher>(), std::make_unique<LaunchHello>(Launch::kPlain)});
  comparisons.push_back(
      {"launch_floor_forked_loader",
       "a floor of launch_hello_launcher: this warm process forks and the child runs sel_ldr's "
       "loader on the hello module (a zygote's best case: no request, no exec of sel_ldr) vs "
       "fork+exec of the same static binary, on the benchmark's CPU",
       std::make_unique<LaunchHello>(Launch::kForkedLoader),
       std::make_unique<LaunchHello>(Launch::kPlain)});
  comparisons.push_back(
      {"launch_floor_two_processes",
       "the floor of any design with a supervisor process per module: fork+exec of "
       "`sel_ldr --version`, then of the hello binary, vs fork+exec of the hello binary, on the "
       "benchmark's CPU",
       std::make_unique<LaunchHello>(Launch::kTwoProcesses),
       std::make_unique<LaunchHello>(Launch::kPlain)});
  bench::Comparison rss = {
      "idle_supervisor_rss",
      absl::StrCat("median VmRSS of sel_ldr (the supervisor alone) with an idle module, of ",
                   kIdleModules,
                   " at once, vs the same module run directly (no sel_ldr), idle alike"),
      std::make_unique<IdleModules>(Isolation::kSelLdr, MemoryFigure::kRss),
      std::make_unique<IdleModules>(Isolation::kNone, MemoryFigure::kRss)};
  rss.unit = "KiB";
  rss.iterations = 1;
  comparisons.push_back(std::move(rss));
  bench::Comparison pss = {
      "idle_supervisor_pss",
      "idle_supervisor_rss as PSS (smaps_rollup): shared pages divided among the processes "
      "that map them, i.e. what the supervisor of one more idle module costs",
      std::make_unique<IdleModules>(Isolation::kSelLdr, MemoryFigure::kPss),
      std::make_unique<IdleModules>(Isolation::kNone, MemoryFigure::kPss)};
  pss.unit = "KiB";
  pss.iterations = 1;
  comparisons.push_back(std::move(pss));
  // Last: their servers may outlive a row that a filter leaves out, until the program ends.
  for (bench::Comparison& density : sandbox_bench::MakeDensityComparisons(density_modules)) {
    comparisons.push_back(std::move(density));
  }
  return comparisons;
}

// Removes --density-modules N (or =N) from argv; returns its value, the default, or -1 for a
// bad value (with a message on stderr).
int TakeDensityModules(int* argc, char** argv) {
  constexpr absl::string_view kFlag = "--density-modules";
  int modules = sandbox_bench::kDefaultDensityModules;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    absl::string_view arg = argv[i];
    absl::string_view value;
    if (arg == kFlag && i + 1 < *argc) {
      value = argv[++i];
    } else if (absl::ConsumePrefix(&arg, kFlag) && absl::ConsumePrefix(&arg, "=")) {
      value = arg;
    } else {
      argv[kept++] = argv[i];
      continue;
    }
    if (!absl::SimpleAtoi(value, &modules) || modules < 1) {
      fprintf(stderr, "sandbox_bench: --density-modules takes a whole number >= 1, not '%s'\n",
              std::string(value).c_str());
      return -1;
    }
  }
  *argc = kept;
  argv[kept] = nullptr;
  return modules;
}

}  // namespace

int main(int argc, char** argv) {
  const int density_modules = TakeDensityModules(&argc, argv);
  if (density_modules < 0) return 2;
  return bench::BenchMain(
      argc, argv,
      {"sandbox_bench",
       "Measures sel_ldr against the same work done without a sandbox, in the same run:\n"
       "trapped syscalls, IMC between sandboxed modules, launches (ns per operation) and the\n"
       "supervisor's memory per idle module (KiB), and density: N idle echo modules at once\n"
       "(--density-modules N, default 1000) against N plain processes, their memory and a\n"
       "connect + echo to a random one. sel_ldr and the modules come from the runfiles."},
      [density_modules](const bench::Placement& placement) {
        return MakeComparisons(placement, density_modules);
      });
}
