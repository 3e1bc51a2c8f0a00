// Starting a module in its sandbox: a child process confined by namespaces, a Landlock scope,
// rlimits, no_new_privs and the seccomp policy, which execs the module exactly once.
#ifndef SEL_LDR_SANDBOX_H_
#define SEL_LDR_SANDBOX_H_

#include <stdint.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "sel_ldr/policy.h"

namespace sel_ldr {

struct SandboxOptions {
  // The module, opened (close-on-exec) and already checked to be a static ELF executable.
  int module_fd = -1;
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  // RLIMIT_AS of the module, in bytes.
  uint64_t address_space_limit = uint64_t{8} << 30;
  // How the seccomp policy answers calls that are not offered.
  PolicyOptions policy;
};

struct SandboxedModule {
  pid_t pid = -1;
  // A pidfd for the module process: readable when it exits.
  base::UniqueFd pidfd;
  // The seccomp user-notification listener of the module's filter. The module itself holds
  // no copy: the child's copy is close-on-exec.
  base::UniqueFd listener;
  // The fd the child execs the module from, execveat(exec_fd, "", ..., AT_EMPTY_PATH): the
  // one exec the supervisor lets through.
  int exec_fd = -1;
  // Namespaces the kernel let the child enter ("user,ipc,uts" or less; with "net" too where
  // there is no Landlock scope).
  std::string namespaces;
  // The child is restricted by the Landlock ruleset of sel_ldr/landlock.h.
  bool landlocked = false;
  // Where the child reports a failure before the module runs (opaque).
  std::shared_ptr<void> startup_report;
};

// If the child failed before the module ran (its exec, say), returns what failed and why;
// otherwise "".
std::string DescribeStartupFailure(const SandboxedModule& module);

// Forks the child, confines it, and returns once its filter is loaded and its listener is
// here. The child is then blocked in its execveat, waiting for the supervisor to allow it
// (see Supervisor). Errors name the step that failed, in the child or here.
absl::StatusOr<SandboxedModule> StartSandbox(const SandboxOptions& options);

}  // namespace sel_ldr

#endif  // SEL_LDR_SANDBOX_H_
