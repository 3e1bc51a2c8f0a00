#include "sel_ldr/landlock.h"

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"

namespace sel_ldr {
namespace {

// The kernel's struct landlock_ruleset_attr as of ABI 6; Debian 12's headers stop at ABI 2,
// so the layout and flags are spelled out here (include/uapi/linux/landlock.h).
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

constexpr uint32_t kCreateRulesetVersion = 1u << 0;    // LANDLOCK_CREATE_RULESET_VERSION
constexpr uint64_t kAccessNetBindTcp = 1ull << 0;      // LANDLOCK_ACCESS_NET_BIND_TCP
constexpr uint64_t kAccessNetConnectTcp = 1ull << 1;   // LANDLOCK_ACCESS_NET_CONNECT_TCP
constexpr uint64_t kScopeAbstractUnixSocket = 1ull << 0;  // LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
constexpr uint64_t kScopeSignal = 1ull << 1;              // LANDLOCK_SCOPE_SIGNAL

}  // namespace

int LandlockAbiVersion() {
  long version = syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return version < 0 ? 0 : static_cast<int>(version);
}

absl::StatusOr<base::UniqueFd> CreateModuleRuleset() {
  const int abi = LandlockAbiVersion();
  if (abi < kLandlockScopeAbi) {
    return absl::UnavailableError(absl::StrCat("Landlock ABI ", abi, " does not scope abstract "
                                               "sockets (needs ", kLandlockScopeAbi, ", Linux 6.12)"));
  }
  RulesetAttr attr = {};
  attr.handled_access_net = kAccessNetBindTcp | kAccessNetConnectTcp;
  attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
  long fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
  if (fd < 0) return base::ErrnoStatus(errno, "landlock_create_ruleset");
  return base::UniqueFd(static_cast<int>(fd));
}

int RestrictSelf(int ruleset_fd) {
  return syscall(SYS_landlock_restrict_self, ruleset_fd, 0) == 0 ? 0 : errno;
}

}  // namespace sel_ldr
