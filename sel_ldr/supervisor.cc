#include "sel_ldr/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

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
// Linux mmap flags a shared-memory mapping may add to NaCl's.
constexpr int kHarmlessMmapFlags = MAP_POPULATE | MAP_NORESERVE | MAP_FIXED_NOREPLACE;

void IgnoreSignal(int) {}

// True once no module task can raise another notification: the listener hangs up.
bool ListenerOrphaned(int listener) {
  struct pollfd pfd = {listener, POLLIN, 0};
  return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP) != 0;
}

int IntArg(uint64_t value) { return static_cast<int>(static_cast<uint32_t>(value)); }

// How many arguments the trace prints for a served call.
int TraceArity(bool nacl, uint64_t nr) {
  if (nacl) {
    switch (nr) {
      case NACL_sys_null:
      case NACL_sys_getpid:
        return 0;
      case NACL_sys_dup2:
      case NACL_sys_fstat:
      case NACL_sys_munmap:
        return 2;
      case NACL_sys_read:
      case NACL_sys_write:
      case NACL_sys_imc_sendmsg:
      case NACL_sys_imc_recvmsg:
        return 3;
      case NACL_sys_mmap:
        return 6;
      default:
        return 1;
    }
  }
  switch (nr) {
    case SYS_close:
    case SYS_dup:
      return 1;
    case SYS_dup2:
    case SYS_fstat:
      return 2;
    case SYS_newfstatat:
      return 4;
    case SYS_read:
    case SYS_write:
    case SYS_readv:
    case SYS_writev:
    case SYS_dup3:
      return 3;
    default:
      return 6;
  }
}

}  // namespace

struct Supervisor::Worker {
  explicit Worker(imc::Cancellation c) : cancellation(std::move(c)) {}
  imc::Cancellation cancellation;
  std::thread thread;
  std::atomic<bool> finished{false};
};

Supervisor::Supervisor(SandboxedModule module, syscalls::DescriptorTable* table,
                       SupervisorOptions options)
    : module_(std::move(module)), memory_(module_.pid), table_(table), options_(options) {}

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
  if (ioctl(module_.listener.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0) {
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
  absl::StatusOr<imc::Cancellation> cancellation = imc::Cancellation::Create();
  if (!cancellation.ok()) return cancellation.status();
  // Caller holds mu_ or no worker runs yet. Workers that ended are joined here, so that a
  // long-lived module does not collect them.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if ((*it)->finished.load()) {
      (*it)->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  auto worker = std::make_unique<Worker>(*std::move(cancellation));
  Worker* raw = worker.get();
  ++live_workers_;
  workers_.push_back(std::move(worker));
  raw->thread = std::thread([this, raw] { WorkerLoop(raw); });
  return absl::OkStatus();
}

void Supervisor::WorkerLoop(Worker* worker) {
  const int listener = module_.listener.get();
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
      seccomp_notif notification;
      memset(&notification, 0, sizeof(notification));
      if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &notification) != 0) {
        const int error = errno;
        if (stopping_.load()) break;
        if (error == EINTR) continue;
        // ENOENT: the caller died before we took its call; or the module is gone.
        if (error == ENOENT && !ListenerOrphaned(listener)) continue;
        if (error != ENOENT) {
          LOG(ERROR) << "SECCOMP_IOCTL_NOTIF_RECV: " << strerror(error);
          KillModule();
        }
        break;
      }
      worker->cancellation.Reset();
      bool handed_off = false;
      Response response = Serve(notification, worker, &handed_off);
      seccomp_notif_resp reply;
      memset(&reply, 0, sizeof(reply));
      reply.id = notification.id;
      if (response.continue_in_kernel) {
        reply.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      } else if (response.value < 0) {
        reply.error = static_cast<int32_t>(response.value);
      } else {
        reply.val = response.value;
      }
      if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &reply) != 0 && errno != ENOENT) {
        LOG(ERROR) << "SECCOMP_IOCTL_NOTIF_SEND: " << strerror(errno);
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
  --live_workers_;
  worker->finished.store(true);
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
  // Until the loader's exec, only sel_ldr's own code runs in the child, and it makes no
  // other trapped call.
  if (!module_started_.load(std::memory_order_acquire)) return Violation(notification);

  const int listener = module_.listener.get();
  const uint64_t id = notification.id;
  auto live = [listener, id] {
    uint64_t live_id = id;
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &live_id) == 0;
  };
  ModuleMemory::Call memory(&memory_, notification.pid, live);
  syscalls::CallContext context;
  context.table = table_;
  context.memory = &memory;
  context.module = this;
  context.thread_id = notification.pid;
  context.cancellation = &worker->cancellation;

  // Runs the call without blocking first; if it would block, gives up the receiver role and
  // runs it again, allowed to block.
  auto dispatch = [&](const syscalls::SyscallTable& table, uint64_t number) {
    context.nonblocking_attempt = true;
    int64_t value = table.Dispatch(context, number, args);
    if (value == -EAGAIN) {
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
  } else if (nr == SYS_mmap) {
    name = "mmap";
    response = ServeMmap(notification);
  } else if (nr == SYS_close) {
    name = "close";
    response = ServeClose(notification, context);
  } else if (const char* linux_name = syscalls::SyscallTable::LinuxDescriptorCalls().Name(nr)) {
    name = linux_name;
    response.value = dispatch(syscalls::SyscallTable::LinuxDescriptorCalls(), nr);
  } else if (absl::optional<int> error = AnswerOf(notification.data)) {
    // Not offered: answered, and said once (policy.h).
    ReportUnserved(notification.data.nr, *error);
    response.value = -*error;
    if (options_.trace) Trace(notification, SyscallName(notification.data.nr).c_str(), response);
    return response;
  } else {
    return Violation(notification);
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

Supervisor::Response Supervisor::ServeMmap(const seccomp_notif& notification) {
  const int fd = IntArg(notification.data.args[4]);
  Response response;
  syscalls::DescriptorRef descriptor = table_->Get(fd);
  if (descriptor == nullptr) {
    response.value = -EBADF;
    return response;
  }
  const int flags = IntArg(notification.data.args[3]) & ~kHarmlessMmapFlags;
  response.value = syscalls::CheckSharedMemoryMap(*descriptor, notification.data.args[1],
                                                  IntArg(notification.data.args[2]), flags,
                                                  static_cast<int64_t>(notification.data.args[5]));
  if (response.value != 0) return response;
  // The module's own mmap then runs in the kernel, on the memfd put at the descriptor's
  // number. mmap has no pointer arguments: nothing the kernel reads can change under us.
  seccomp_notif_addfd addfd;
  memset(&addfd, 0, sizeof(addfd));
  addfd.id = notification.id;
  addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
  addfd.srcfd = static_cast<uint32_t>(descriptor->SharedMemoryFd()->first);
  addfd.newfd = static_cast<uint32_t>(fd);
  addfd.newfd_flags = O_CLOEXEC;
  if (ioctl(module_.listener.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0) {
    response.value = -(errno == EBADF ? EMFILE : errno);
    return response;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    mirrored_fds_.insert(fd);
  }
  response.continue_in_kernel = true;
  return response;
}

Supervisor::Response Supervisor::ServeClose(const seccomp_notif& notification,
                                            const syscalls::CallContext& context) {
  syscalls::SyscallArgs args = {{notification.data.args[0], 0, 0, 0, 0, 0}};
  Response response;
  response.value =
      syscalls::SyscallTable::LinuxDescriptorCalls().Dispatch(context, SYS_close, args);
  const int fd = IntArg(notification.data.args[0]);
  std::lock_guard<std::mutex> lock(mu_);
  if (response.value == 0 && mirrored_fds_.erase(fd) != 0) {
    // The module also holds the memfd an mmap put at this number: let the kernel close it.
    response.continue_in_kernel = true;
  }
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

void Supervisor::Trace(const seccomp_notif& notification, const char* name,
                       const Response& response) {
  const uint64_t nr = static_cast<uint64_t>(notification.data.nr);
  const bool nacl =
      nr >= NACL_ABI_SYSCALL_BASE && nr < NACL_ABI_SYSCALL_BASE + NACL_ABI_SYSCALL_COUNT;
  std::vector<std::string> args;
  for (int i = 0; i < TraceArity(nacl, nacl ? nr - NACL_ABI_SYSCALL_BASE : nr); ++i) {
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
  for (const auto& worker : workers_) worker->cancellation.Cancel();
  while (live_workers_ > 0) {
    for (const auto& worker : workers_) {
      if (!worker->finished.load()) pthread_kill(worker->thread.native_handle(), kWakeSignal);
    }
    workers_changed_.wait_for(lock, std::chrono::milliseconds(10));
  }
  std::vector<std::unique_ptr<Worker>> finished = std::move(workers_);
  workers_.clear();
  lock.unlock();
  for (auto& worker : finished) {
    if (worker->thread.joinable()) worker->thread.join();
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

int64_t Supervisor::MapSharedMemory(int, uint64_t, size_t, int, int, int64_t) {
  // A supervisor cannot map memory into another process. Modules map shared memory with
  // libc's mmap(), which the loader serves (ServeMmap); the raw NaCl number cannot be.
  return -NACL_ABI_ENOSYS;
}

int64_t Supervisor::Unmap(uint64_t, size_t) {
  // Modules unmap with libc's munmap(), which the policy allows in the module itself.
  return -NACL_ABI_ENOSYS;
}

}  // namespace sel_ldr
