// Landlock scoping of the module process: what the network namespace was for, at a fraction
// of its cost. A scoped process cannot connect or send to an abstract AF_UNIX socket, nor
// signal a process, that was created outside its own Landlock domain, and cannot bind or
// connect TCP ports. Every module gets a domain of its own, so this also holds between
// modules. The seccomp filter already refuses all of these calls; the scope is the second
// wall behind it (docs/threat_model.md).
#ifndef SEL_LDR_LANDLOCK_H_
#define SEL_LDR_LANDLOCK_H_

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace sel_ldr {

// The Landlock ABI version that first scopes abstract AF_UNIX sockets and signals (Linux 6.12).
inline constexpr int kLandlockScopeAbi = 6;

// Returns the kernel's Landlock ABI version, or 0 if Landlock is absent or disabled.
int LandlockAbiVersion();

// Creates the ruleset every module is restricted by: abstract AF_UNIX sockets and signals
// scoped, TCP bind and connect handled with no rule (refused). The fd is close-on-exec.
// Unavailable (naming the version found) if the kernel's ABI is below kLandlockScopeAbi.
absl::StatusOr<base::UniqueFd> CreateModuleRuleset();

// Restricts the calling thread by `ruleset_fd` (no_new_privs must be set). Async-signal-safe:
// it runs in the forked child. Returns 0 or the errno.
int RestrictSelf(int ruleset_fd);

}  // namespace sel_ldr

#endif  // SEL_LDR_LANDLOCK_H_
