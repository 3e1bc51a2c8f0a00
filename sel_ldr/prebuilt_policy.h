// The module's seccomp program, prebuilt: generated at build time by //sel_ldr:policy_gen from
// GenerateModulePolicy (sel_ldr/policy.h). libseccomp takes about 0.3 ms per program, a tenth
// of a launch, and the program differs between modules only in the module's pid. The
// generator proves that when it runs (the build fails otherwise): the programs for two
// placeholder pids differ only in the instructions that hold them, and for pids across the
// kernel's range the generated program equals the prebuilt one with the pid put in.
#ifndef SEL_LDR_PREBUILT_POLICY_H_
#define SEL_LDR_PREBUILT_POLICY_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <vector>

#include "absl/status/statusor.h"
#include "sel_ldr/policy.h"

namespace sel_ldr {

// Returns the policy program for the module process `module_pid`, equal to
// GenerateModulePolicy(module_pid, options) and made in microseconds. InvalidArgument for a
// pid <= 0.
absl::StatusOr<std::vector<sock_filter>> ModulePolicy(pid_t module_pid,
                                                      const PolicyOptions& options = {});

}  // namespace sel_ldr

#endif  // SEL_LDR_PREBUILT_POLICY_H_
