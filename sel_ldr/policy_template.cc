#include "sel_ldr/policy_template.h"

namespace sel_ldr {

std::vector<sock_filter> Instantiate(const PolicyTemplate& policy, pid_t pid) {
  std::vector<sock_filter> program(policy.instructions, policy.instructions + policy.length);
  for (size_t i = 0; i < policy.pid_count; ++i) {
    program[policy.pid_at[i]].k = static_cast<uint32_t>(pid);
  }
  return program;
}

}  // namespace sel_ldr
