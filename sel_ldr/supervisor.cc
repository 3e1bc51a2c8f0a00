#include "sel_ldr/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/errno_status.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "sel_ldr/module_memory.h"
#include "sel_ldr/policy.h"
#include "sel_ldr/seccomp_unotify.h"
#include "syscalls/handlers.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/syscall_table.h"
#include "syscalls/untrusted_memory.h"

namespace sel_ldr {
namespace {

// A worker blocked in SECCOMP_IOCTL_NOTIF_RECV is woken for shutdown by this signal.
constexpr int kWakeSignal = SIGUSR2;
// Idle workers beyond this many exit.
constexpr int kMaxIdleWorkers = 4;
// A worker's stack: handlers keep their buffers on the heap.
constexpr size_t kWorkerStackBytes = 256 * 1024;

void IgnoreSignal(int) {}

using syscalls::IntArg;

}  // namespace

struct Supervisor::Worker {
  Worker(Supervisor* s, imc::Cancellation c) : supervisor(s), cancellation(std::move(c)) {}
  Supervisor* supervisor;
  imc::Cancellation cancellation;
  pthread_t thread;
};

Supervisor::Supervisor(SandboxedModule module, std::unique_ptr<SeccompListener> listener,
                       syscalls::DescriptorTable* table, SupervisorOptions options)
    : module_(std::move(module)),
      listener_(std::move(listener)),
      memory_(module_.pid),
      table_(table),
      options_(options),
      placeholder_(memfd_create("sel_ldr-placeholder", MFD_CLOEXEC | MFD_ALLOW_SEALING)) {
  // Empty and sealed: nothing can be done with it.
  if (placeholder_.valid()) {
    fcntl(placeholder_.get(), F_ADD_SEALS,
          F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  }
}

Supervisor::~Supervisor() { StopWorkers(); }

absl::StatusOr<ModuleOutcome> Supervisor::Run() {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = IgnoreSignal;  // No SA_RESTART: a blocked RECV returns EINTR.
  sigemptyset(&action.sa_mask);
  if (sigaction(kWakeSignal, &action, nullptr) != 0) {
    return base::ErrnoStatus(errno, "sigaction");
  }
  // A module that closes a pipe we write to must not kill the loader.
  signal(SIGPIPE, SIG_IGN);
  if (listener_->SetSyncWakeUp().ok()) {
    VLOG(2) << "seccomp notifications wake the supervisor synchronously";
  } else {
    VLOG(2) << "kernel without SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: plain wake-ups";
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(StartWorker());
  }

  struct pollfd exited = {module_.pidfd.get(), POLLIN, 0};
  while (poll(&exited, 1, -1) < 0 && errno == EINTR) {
  }
  // The module's pid stays unreaped until every worker has stopped: ModuleMemory relies on
  // it never naming another process while a call is served.
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  const int waited =
      waitid(P_PIDFD, static_cast<id_t>(module_.pidfd.get()), &info, WEXITED | WNOWAIT);
  const int wait_error = errno;
  memory_.Close();
  StopWorkers();
  table_->CloseAll();
  if (waited != 0) return base::ErrnoStatus(wait_error, "waitid(module)");
  siginfo_t reaped;
  memset(&reaped, 0, sizeof(reaped));
  if (waitid(P_PIDFD, static_cast<id_t>(module_.pidfd.get()), &reaped, WEXITED) != 0) {
    return base::ErrnoStatus(errno, "waitid(module)");
  }

  ModuleOutcome outcome;
  std::lock_guard<std::mutex> lock(mu_);
  if (!violation_.empty()) {
    outcome.kind = ModuleOutcome::Kind::kPolicyViolation;
    outcome.violation = violation_;
  } else if (exit_requested_) {
    outcome.kind = ModuleOutcome::Kind::kExited;
    outcome.status = exit_status_;
  } else if (info.si_code == CLD_EXITED) {
    outcome.kind = ModuleOutcome::Kind::kExited;
    outcome.status = info.si_status;
    std::string failure = DescribeStartupFailure(module_);
    if (!failure.empty()) {
      outcome.kind = ModuleOutcome::Kind::kStartFailed;
      outcome.violation = failure;
    }
  } else {
    outcome.kind = ModuleOutcome::Kind::kSignaled;
    outcome.signal = info.si_status;
  }
  return outcome;
}

absl::Status Supervisor::StartWorker() {
  // Caller holds mu_, or no worker runs yet.
  ASSIGN_OR_RETURN(imc::Cancellation cancellation, imc::Cancellation::Create());
  auto worker = std::make_unique<Worker>(this, std::move(cancellation));
  // Detached, so that a worker that ends is gone at once (its stack and its eventfd), and
  // with a small stack: a module may keep hundreds of calls blocked.
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attributes, kWorkerStackBytes);
  const int error = pthread_create(
      &worker->thread, &attributes,
      [](void* w) -> void* {
        auto* worker = static_cast<Worker*>(w);
        worker->supervisor->WorkerLoop(worker);
        return nullptr;
      },
      worker.get());
  pthread_attr_destroy(&attributes);
  if (error != 0) return base::ErrnoStatus(error, "start a supervisor worker thread");
  ++live_workers_;
  workers_.insert(worker.release());
  return absl::OkStatus();
}

void Supervisor::WorkerLoop(Worker* worker) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // Wait to become the receiver, as one of the idle workers.
    ++idle_workers_;
    receiver_free_.wait(lock, [this] { return stopping_.load() || !receiver_taken_; });
    --idle_workers_;
    if (stopping_.load()) break;
    receiver_taken_ = true;
    lock.unlock();
    bool receiving = true;
    while (receiving) {
      absl::StatusOr<seccomp_notif> notification = listener_->Receive();
      if (!notification.ok()) {
        const int error = base::ErrnoOf(notification.status());
        if (stopping_.load()) break;
        if (error == EINTR) continue;
        // ENOENT: the caller died before we took its call; or the module is gone.
        if (error == ENOENT) {
          absl::StatusOr<bool> orphaned = listener_->Orphaned();
          if (!(orphaned.ok() && *orphaned)) continue;
        } else {
          LOG(ERROR) << notification.status().message();
          KillModule();
        }
        break;
      }
      worker->cancellation.Reset();
      bool handed_off = false;
      const Response response = Serve(*notification, worker, &handed_off);
      absl::Status answered = Answer(notification->id, response);
      if (!answered.ok() && base::ErrnoOf(answered) != ENOENT) {
        LOG(ERROR) << answered.message();
      }
      receiving = !handed_off;
    }
    lock.lock();
    if (receiving) {
      // Left the receive loop while still the receiver: the module is gone, or stopping.
      receiver_taken_ = false;
      break;
    }
    if (idle_workers_ >= kMaxIdleWorkers) break;
  }
  // The worker ends here: it leaves the set (so nothing signals its thread any more) and
  // frees itself; the thread is detached.
  workers_.erase(worker);
  delete worker;
  --live_workers_;
  receiver_free_.notify_all();
  workers_changed_.notify_all();
}

absl::Status Supervisor::HandOffReceiver() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_.load()) {
    receiver_taken_ = false;
    return absl::OkStatus();
  }
  if (idle_workers_ > 0) {
    receiver_taken_ = false;
    receiver_free_.notify_one();
    return absl::OkStatus();
  }
  // Still the receiver until a new worker exists: no one may find the role free meanwhile.
  absl::Status started = StartWorker();
  if (started.ok()) receiver_taken_ = false;
  return started;
}

Supervisor::Response Supervisor::Serve(const seccomp_notif& notification, Worker* worker,
                                       bool* handed_off) {
  const uint64_t nr = static_cast<uint64_t>(notification.data.nr);
  syscalls::SyscallArgs args;
  for (int i = 0; i < 6; ++i) args.arg[i] = notification.data.args[i];

  if (notification.data.arch != AUDIT_ARCH_X86_64) return Violation(notification);
  if (nr == SYS_execve || nr == SYS_execveat) return ServeExec(notification);
  if (nr == SYS_clone || nr == SYS_exit) return ServeThreads(notification);
  // Until the loader's exec, only sel_ldr's own code runs in the child, and it makes no
  // other trapped call.
  if (!module_started_.load(std::memory_order_acquire)) return Violation(notification);

  const uint64_t id = notification.id;
  auto live = [this, id] { return CallIsLive(id); };
  ModuleMemory::Call memory(&memory_, notification.pid, live);
  syscalls::CallContext context;
  context.table = table_;
  context.memory = &memory;
  context.module = this;
  context.thread_id = notification.pid;
  context.call_id = notification.id;
  context.cancellation = &worker->cancellation;

  // Runs the call without blocking first; if it would block, gives up the receiver role and
  // runs it again, allowed to block.
  auto dispatch = [&](const syscalls::SyscallTable& table, uint64_t number) {
    context.nonblocking_attempt = true;
    int64_t value = table.Dispatch(context, number, args);
    if (value == syscalls::kWouldBlock) {
      absl::Status handed = HandOffReceiver();
      if (!handed.ok()) {
        // No worker can take over receiving (no fd for its eventfd): blocking here would stop
        // every other module thread, maybe the one this call waits for. Answer the error.
        LOG(WARNING) << "cannot move a blocking call off the receiver: " << handed.message();
        const int error = base::ErrnoOf(handed);
        return static_cast<int64_t>(-(error == ENFILE ? ENFILE : EMFILE));
      }
      *handed_off = true;
      context.nonblocking_attempt = false;
      value = table.Dispatch(context, number, args);
    }
    return value;
  };

  Response response;
  const char* name = nullptr;
  if (nr >= NACL_ABI_SYSCALL_BASE && nr < NACL_ABI_SYSCALL_BASE + NACL_ABI_SYSCALL_COUNT) {
    const syscalls::SyscallTable& table = syscalls::SyscallTable::Nacl();
    name = table.Name(nr - NACL_ABI_SYSCALL_BASE);
    response.value = dispatch(table, nr - NACL_ABI_SYSCALL_BASE);
  } else if (const char* linux_name = syscalls::SyscallTable::LinuxDescriptorCalls().Name(nr)) {
    name = linux_name;
    response.value = dispatch(syscalls::SyscallTable::LinuxDescriptorCalls(), nr);
  } else {
    return Unserved(notification);
  }
  if (response.value == syscalls::kRunInKernel) {
    response.value = 0;
    response.continue_in_kernel = true;
  }
  if (options_.trace) Trace(notification, name, response);
  return response;
}

Supervisor::Response Supervisor::ServeExec(const seccomp_notif& notification) {
  // The loader's own exec of the module (sandbox.cc, RunChild): the first call the child
  // makes under its filter, from its only thread, before any module code exists. Nothing
  // else can have made it, and nothing can change the memory the kernel reads for it.
  // Every other exec, of any form from any thread, is a violation.
  const bool loader_exec = notification.data.nr == SYS_execveat &&
                           static_cast<pid_t>(notification.pid) == module_.pid &&
                           IntArg(notification.data.args[0]) == module_.exec_fd &&
                           notification.data.args[4] == AT_EMPTY_PATH;
  if (!loader_exec || module_started_.exchange(true, std::memory_order_acq_rel)) {
    return Violation(notification);
  }
  Response response;
  response.continue_in_kernel = true;
  if (options_.trace) Trace(notification, "execveat", response);
  return response;
}

Supervisor::Response Supervisor::ServeThreads(const seccomp_notif& notification) {
  Response response;
  if (notification.data.nr == SYS_exit) {
    // The thread ends once the kernel runs its exit; exit has no pointer argument.
    std::lock_guard<std::mutex> lock(mu_);
    if (threads_ > 1) --threads_;
    response.continue_in_kernel = true;
  } else if (!IsThreadClone(notification.data.args[0])) {
    return Unserved(notification);  // A new process: ENOSYS; a new namespace: a violation.
  } else {
    // The kernel writes the new thread's id into the module's own memory (CLONE_PARENT_SETTID,
    // CLONE_CHILD_CLEARTID): nothing decided here depends on what the pointers point to. A
    // clone the kernel then fails leaves the count one too high until the thread budget is
    // next exhausted, when it is taken from /proc again.
    std::lock_guard<std::mutex> lock(mu_);
    if (threads_ >= options_.max_threads) threads_ = std::max(1, CountModuleThreads());
    if (threads_ >= options_.max_threads) {
      response.value = -EAGAIN;
    } else {
      ++threads_;
      response.continue_in_kernel = true;
    }
  }
  if (options_.trace) Trace(notification, SyscallName(notification.data.nr).c_str(), response);
  return response;
}

int Supervisor::CountModuleThreads() const {
  // /proc/<pid>/stat: "pid (comm) state ..." with num_threads the 20th field; comm may hold
  // spaces and parentheses, so fields are counted from its last ')'.
  const std::string path = absl::StrCat("/proc/", module_.pid, "/stat");
  base::UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char text[1024];
  ssize_t n = file.valid() ? read(file.get(), text, sizeof(text) - 1) : -1;
  if (n <= 0) return 0;
  text[n] = '\0';
  const char* field = strrchr(text, ')');
  int threads = 0;
  for (int index = 2; field != nullptr && index < 20; ++index) field = strchr(field + 1, ' ');
  if (field == nullptr || sscanf(field + 1, "%d", &threads) != 1) return 0;
  return threads;
}

Supervisor::Response Supervisor::Unserved(const seccomp_notif& notification) {
  absl::optional<int> error = AnswerOf(notification.data);
  if (!error.has_value()) return Violation(notification);
  // Not offered: answered, and said once (policy.h).
  ReportUnserved(notification.data.nr, *error);
  Response response;
  response.value = -*error;
  if (options_.trace) Trace(notification, SyscallName(notification.data.nr).c_str(), response);
  return response;
}

Supervisor::Response Supervisor::Violation(const seccomp_notif& notification) {
  const long nr = notification.data.nr;
  std::string what;
  if (notification.data.arch != AUDIT_ARCH_X86_64) {
    what =
        absl::StrCat("foreign architecture 0x", absl::Hex(notification.data.arch), " (", nr, ")");
  } else if (nr == SYS_execve || nr == SYS_execveat) {
    what = absl::StrCat(SyscallName(nr), " (", nr, "): a second exec");
  } else if (!module_started_.load()) {
    what = absl::StrCat(SyscallName(nr), " (", nr, ") before the module started");
  } else {
    what = absl::StrCat(SyscallName(nr), " (", nr, ")");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (violation_.empty()) violation_ = what;
  }
  // Calls still being served write nothing more into a module that broke the policy.
  memory_.Close();
  KillModule();
  Response response;
  response.value = -ENOSYS;
  if (options_.trace) Trace(notification, SyscallName(nr).c_str(), response);
  return response;
}

absl::Status Supervisor::Answer(uint64_t id, const Response& response) {
  if (response.continue_in_kernel) return listener_->RespondContinue(id);
  if (response.value < 0) return listener_->RespondErrno(id, static_cast<int>(-response.value));
  return listener_->RespondValue(id, response.value);
}

bool Supervisor::CallIsLive(uint64_t id) {
  absl::StatusOr<bool> live = listener_->IsLive(id);
  return live.ok() && *live;
}

void Supervisor::Trace(const seccomp_notif& notification, const char* name,
                       const Response& response) {
  const uint64_t nr = static_cast<uint64_t>(notification.data.nr);
  const bool nacl =
      nr >= NACL_ABI_SYSCALL_BASE && nr < NACL_ABI_SYSCALL_BASE + NACL_ABI_SYSCALL_COUNT;
  std::vector<std::string> args;
  const int arity = nacl ? syscalls::SyscallTable::Nacl().Arity(nr - NACL_ABI_SYSCALL_BASE)
                         : syscalls::SyscallTable::LinuxDescriptorCalls().Arity(nr);
  for (int i = 0; i < arity; ++i) {
    args.push_back(absl::StrCat("0x", absl::Hex(notification.data.args[i])));
  }
  std::string result;
  if (response.continue_in_kernel) {
    result = "(run by the kernel)";
  } else if (response.value < 0) {
    const char* errno_name = strerrorname_np(static_cast<int>(-response.value));
    result = absl::StrCat("-1 ", errno_name != nullptr ? errno_name : "E?", " (",
                          strerror(static_cast<int>(-response.value)), ")");
  } else {
    result = absl::StrCat(response.value);
  }
  // A NaCl number without a handler has no name (and answers ENOSYS).
  const std::string call =
      name != nullptr ? name : absl::StrCat("syscall_", nacl ? nr - NACL_ABI_SYSCALL_BASE : nr);
  LOG(INFO) << "[" << notification.pid << "] " << (nacl ? "nacl_" : "") << call << "("
            << absl::StrJoin(args, ", ") << ") = " << result;
}

void Supervisor::KillModule() {
  syscall(SYS_pidfd_send_signal, module_.pidfd.get(), SIGKILL, nullptr, 0);
}

void Supervisor::StopWorkers() {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_.store(true);
  receiver_free_.notify_all();
  // Calls still blocked end now; the module is gone, so their answers go nowhere.
  for (Worker* worker : workers_) worker->cancellation.Cancel();
  while (live_workers_ > 0) {
    // Workers in the set have not ended: their threads exist.
    for (Worker* worker : workers_) pthread_kill(worker->thread, kWakeSignal);
    workers_changed_.wait_for(lock, std::chrono::milliseconds(10));
  }
}

int64_t Supervisor::Exit(int status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    exit_requested_ = true;
    exit_status_ = status & 0xff;
  }
  KillModule();
  return 0;
}

int64_t Supervisor::GetPid() { return module_.pid; }

int64_t Supervisor::PlaceFd(uint64_t call, int host_fd, int number) {
  absl::Status placed = listener_->AddFdAt(call, host_fd, number);
  if (placed.ok()) return 0;
  // EBADF: the number is beyond the module's RLIMIT_NOFILE.
  const int error = base::ErrnoOf(placed);
  return -(error == EBADF ? EMFILE : error != 0 ? error : EIO);
}

int64_t Supervisor::ReleaseFd(uint64_t call, int number) {
  // Replacing the object with an empty one drops the module process's reference to it.
  return placeholder_.valid() ? PlaceFd(call, placeholder_.get(), number) : -ENOMEM;
}

}  // namespace sel_ldr
