#include "sel_ldr/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "sel_ldr/landlock.h"
#include "sel_ldr/policy.h"
#include "sel_ldr/prebuilt_policy.h"
#include "syscalls/nacl_abi.h"

namespace sel_ldr {
namespace {

// Child and parent meet in one shared anonymous mapping, since after fork only
// async-signal-safe code runs in the child and, once its filter is loaded, it may make
// almost no syscalls at all.
enum class Stage : uint32_t {
  kStarted = 0,
  kPolicyReady = 1,    // Parent -> child: the BPF program is in `program`.
  kListenerReady = 2,  // Child -> parent: `listener_fd` holds the listener.
  kListenerTaken = 3,  // Parent -> child: the parent has its copy; the child may exec.
  kFailed = 4,         // Child -> parent: `failed_step` failed with `error`.
};

constexpr size_t kMaxProgram = 4096;  // Instructions (the kernel's BPF_MAXINSNS).

struct SharedPage {
  std::atomic<uint32_t> stage;
  int32_t listener_fd;
  int32_t error;
  uint32_t namespaces;  // Bit set of kNamespaceFlags entries entered.
  uint32_t landlocked;  // 1 if the child restricted itself by the Landlock ruleset.
  char failed_step[64];
  uint32_t program_length;
  sock_filter program[kMaxProgram];
};

struct NamespaceFlag {
  int flag;
  const char* name;
};
constexpr NamespaceFlag kNamespaceFlags[] = {
    {CLONE_NEWUSER, "user"},
    {CLONE_NEWNET, "net"},
    {CLONE_NEWIPC, "ipc"},
    {CLONE_NEWUTS, "uts"},
};
constexpr size_t kNamespaceCount = sizeof(kNamespaceFlags) / sizeof(kNamespaceFlags[0]);
constexpr size_t kNetNamespaceIndex = 1;
static_assert(kNamespaceFlags[kNetNamespaceIndex].flag == CLONE_NEWNET);

// How the child confines itself before its filter: the namespaces it tries, and the Landlock
// ruleset it restricts itself by (-1: none).
struct Confinement {
  int namespaces;
  int landlock_ruleset;
};

// A network namespace costs about 0.6 ms per launch (docs/performance.md section 8); all it
// adds behind the filter, which refuses socket(), connect() and addressed sends, is that
// abstract AF_UNIX names and TCP ports of the host are out of reach. A Landlock scope does
// that too (and between modules), so the namespace is only created where Landlock cannot.
Confinement ConfinementFor(int landlock_ruleset) {
  Confinement confinement = {0, landlock_ruleset};
  for (const NamespaceFlag& ns : kNamespaceFlags) {
    if (ns.flag == CLONE_NEWNET && landlock_ruleset >= 0) continue;
    confinement.namespaces |= ns.flag;
  }
  return confinement;
}

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

void FutexWait(std::atomic<uint32_t>* word, uint32_t value, const timespec* timeout) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, value, timeout, nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

// Child side: async-signal-safe only. Reports `step` and errno to the parent and exits.
[[noreturn]] void ChildFail(SharedPage* page, const char* step, int error) {
  size_t n = strlen(step);
  if (n >= sizeof(page->failed_step)) n = sizeof(page->failed_step) - 1;
  memcpy(page->failed_step, step, n);
  page->failed_step[n] = '\0';
  page->error = error;
  page->stage.store(static_cast<uint32_t>(Stage::kFailed));
  FutexWake(&page->stage);
  _exit(125);
}

// How the child reaches the module's exec: execveat(module_fd, "", ..., AT_EMPTY_PATH), the
// one exec the supervisor lets through (Supervisor::ServeExec).
struct ExecPlan {
  int module_fd;
  struct rlimit descriptors;  // RLIMIT_NOFILE of the module: the descriptor table's size.
};

[[noreturn]] void RunChild(SharedPage* page, pid_t parent, const Confinement& confinement,
                           const ExecPlan& exec, char* const* argv, char* const* envp,
                           const struct rlimit* address_space) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(page, "prctl(PR_SET_PDEATHSIG)", errno);
  if (getppid() != parent) _exit(125);  // The supervisor already died.
  // Nothing the loader holds may reach the module: every fd closes at exec.
  if (syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    ChildFail(page, "close_range(CLOEXEC)", errno);
  }
  // Namespaces, as many as the kernel allows: all at once, else each alone.
  if (unshare(confinement.namespaces) == 0) {
    for (size_t i = 0; i < kNamespaceCount; ++i) {
      if (confinement.namespaces & kNamespaceFlags[i].flag) page->namespaces |= 1u << i;
    }
  } else {
    for (size_t i = 0; i < kNamespaceCount; ++i) {
      if ((confinement.namespaces & kNamespaceFlags[i].flag) &&
          unshare(kNamespaceFlags[i].flag) == 0) {
        page->namespaces |= 1u << i;
      }
    }
  }
  const struct rlimit no_core = {0, 0};
  const struct rlimit no_files_written = {0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) != 0) ChildFail(page, "setrlimit(RLIMIT_CORE)", errno);
  if (setrlimit(RLIMIT_FSIZE, &no_files_written) != 0) {
    ChildFail(page, "setrlimit(RLIMIT_FSIZE)", errno);
  }
  // Real fds in the module are only shared-memory objects put there for mmap, at their
  // descriptor numbers.
  if (setrlimit(RLIMIT_NOFILE, &exec.descriptors) != 0) {
    ChildFail(page, "setrlimit(RLIMIT_NOFILE)", errno);
  }
  if (setrlimit(RLIMIT_AS, address_space) != 0) ChildFail(page, "setrlimit(RLIMIT_AS)", errno);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    ChildFail(page, "prctl(PR_SET_NO_NEW_PRIVS)", errno);
  }
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) ChildFail(page, "prctl(PR_SET_DUMPABLE)", errno);
  if (confinement.landlock_ruleset >= 0) {
    // The kernel can still refuse (E2BIG: sel_ldr already runs 16 Landlock layers deep);
    // then the network namespace does the scope's work, as on kernels without it.
    int error = RestrictSelf(confinement.landlock_ruleset);
    if (error == 0) {
      page->landlocked = 1;
    } else if (unshare(CLONE_NEWNET) == 0) {
      page->namespaces |= 1u << kNetNamespaceIndex;
    } else {
      ChildFail(page, "landlock_restrict_self, then unshare(CLONE_NEWNET)", error);
    }
  }

  // Wait for the parent to build the policy (it needs this process's pid).
  while (page->stage.load() == static_cast<uint32_t>(Stage::kStarted)) {
    FutexWait(&page->stage, static_cast<uint32_t>(Stage::kStarted), nullptr);
  }
  struct sock_fprog program = {static_cast<unsigned short>(page->program_length), page->program};
  long listener =
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
              SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &program);
  if (listener < 0 && errno == EINVAL) {
    // Kernels before 5.19: without killable waits, a signal can interrupt a served call.
    listener =
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
  }
  if (listener < 0) ChildFail(page, "seccomp(SECCOMP_SET_MODE_FILTER)", errno);
  page->listener_fd = static_cast<int32_t>(listener);
  page->stage.store(static_cast<uint32_t>(Stage::kListenerReady));
  FutexWake(&page->stage);
  // The exec closes the listener here: wait until the parent took its copy (futex is one of
  // the calls the filter allows).
  while (page->stage.load() == static_cast<uint32_t>(Stage::kListenerReady)) {
    FutexWait(&page->stage, static_cast<uint32_t>(Stage::kListenerReady), nullptr);
  }
  // From here the filter rules: the supervisor lets this one exec through. The listener and
  // the module fd are close-on-exec.
  syscall(SYS_execveat, exec.module_fd, "", argv, envp, AT_EMPTY_PATH);
  // The failure can no longer be written anywhere but the shared page.
  ChildFail(page, "execveat", errno);
}

// A NULL-terminated char* array over `strings` (which must outlive it).
std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Waits until the child leaves `from` or dies. Returns the new stage.
absl::StatusOr<Stage> AwaitStage(SharedPage* page, Stage from, pid_t child, int pidfd) {
  for (;;) {
    uint32_t now = page->stage.load();
    if (now != static_cast<uint32_t>(from)) return static_cast<Stage>(now);
    const timespec tick = {0, 50 * 1000 * 1000};
    FutexWait(&page->stage, now, &tick);
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == child && page->stage.load() == static_cast<uint32_t>(from)) {
      return base::ErrnoStatus(ECHILD, "the sandbox child died while starting");
    }
  }
}

}  // namespace

std::string DescribeStartupFailure(const SandboxedModule& module) {
  const auto* page = static_cast<const SharedPage*>(module.startup_report.get());
  if (page == nullptr || page->stage.load() != static_cast<uint32_t>(Stage::kFailed)) return "";
  return absl::StrCat(page->failed_step, ": ", strerror(page->error));
}

absl::StatusOr<SandboxedModule> StartSandbox(const SandboxOptions& options) {
  void* mapping =
      mmap(nullptr, sizeof(SharedPage), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) return base::ErrnoStatus(errno, "mmap shared page");
  auto* page = new (mapping) SharedPage();
  std::shared_ptr<void> page_owner(mapping, [](void* p) { munmap(p, sizeof(SharedPage)); });

  // Everything the child needs is prepared before fork: it may not allocate.
  std::vector<char*> argv = CStrings(options.argv);
  std::vector<char*> envp = CStrings(options.envp);
  // Limits only go down: clamp to what this process may set without privileges.
  struct rlimit current;
  getrlimit(RLIMIT_AS, &current);
  const rlim_t as_limit = std::min<rlim_t>(options.address_space_limit, current.rlim_max);
  const struct rlimit address_space = {as_limit, as_limit};
  getrlimit(RLIMIT_NOFILE, &current);
  ExecPlan exec;
  exec.module_fd = options.module_fd;
  // Room for placed fds at every descriptor number where the hard limit allows.
  const rlim_t descriptors = std::min<rlim_t>(NACL_ABI_DESCRIPTOR_TABLE_SIZE, current.rlim_max);
  exec.descriptors = {descriptors, descriptors};
  // Without a Landlock scope (kernels before 6.12) the child falls back to a network namespace.
  absl::StatusOr<base::UniqueFd> ruleset = CreateModuleRuleset();
  const Confinement confinement = ConfinementFor(ruleset.ok() ? ruleset->get() : -1);
  const pid_t parent = getpid();
  // The child must stay unreaped until the supervisor reaps it (its pid then names no other
  // process while calls are served): an ignored SIGCHLD, inherited from whoever started
  // sel_ldr, would let the kernel reap it at once.
  struct sigaction default_action;
  memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  if (sigaction(SIGCHLD, &default_action, nullptr) != 0) {
    return base::ErrnoStatus(errno, "sigaction(SIGCHLD)");
  }

  pid_t child = fork();
  if (child < 0) return base::ErrnoStatus(errno, "fork");
  if (child == 0) {
    RunChild(page, parent, confinement, exec, argv.data(), envp.data(), &address_space);
  }

  SandboxedModule module;
  module.pid = child;
  module.exec_fd = exec.module_fd;
  module.startup_report = page_owner;
  auto kill_child = [&](absl::Status status) -> absl::Status {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return status;
  };
  module.pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, child, 0)));
  if (!module.pidfd.valid()) return kill_child(base::ErrnoStatus(errno, "pidfd_open"));

  absl::StatusOr<std::vector<sock_filter>> program = ModulePolicy(child, options.policy);
  if (!program.ok()) return kill_child(program.status());
  if (program->size() > kMaxProgram) {
    return kill_child(base::ErrnoStatus(E2BIG, "the seccomp program is too long"));
  }
  memcpy(page->program, program->data(), program->size() * sizeof(sock_filter));
  page->program_length = static_cast<uint32_t>(program->size());
  page->stage.store(static_cast<uint32_t>(Stage::kPolicyReady));
  FutexWake(&page->stage);

  absl::StatusOr<Stage> stage = AwaitStage(page, Stage::kPolicyReady, child, module.pidfd.get());
  if (!stage.ok()) return kill_child(stage.status());
  if (*stage == Stage::kFailed) {
    return kill_child(
        base::ErrnoStatus(page->error, absl::StrCat("sandbox setup: ", page->failed_step)));
  }
  module.listener.reset(
      static_cast<int>(syscall(SYS_pidfd_getfd, module.pidfd.get(), page->listener_fd, 0)));
  if (!module.listener.valid()) {
    return kill_child(base::ErrnoStatus(errno, "pidfd_getfd(seccomp listener)"));
  }
  page->stage.store(static_cast<uint32_t>(Stage::kListenerTaken));
  FutexWake(&page->stage);
  std::vector<std::string> entered;
  for (size_t i = 0; i < kNamespaceCount; ++i) {
    if (page->namespaces & (1u << i)) entered.push_back(kNamespaceFlags[i].name);
  }
  module.namespaces = absl::StrJoin(entered, ",");
  module.landlocked = page->landlocked != 0;
  return module;
}

}  // namespace sel_ldr
