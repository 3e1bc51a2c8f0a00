#include "sel_ldr/policy_template.h"

#include <algorithm>

namespace sel_ldr {

std::vector<sock_filter> Instantiate(const PolicyTemplate& policy, pid_t pid) {
  std::vector<sock_filter> program(policy.instructions, policy.instructions + policy.length);
  for (size_t i = 0; i < policy.pid_count; ++i) {
    program[policy.pid_at[i]].k = static_cast<uint32_t>(pid);
  }
  return program;
}

bool SameInstruction(const sock_filter& a, const sock_filter& b) {
  return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
}

bool SameProgram(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), SameInstruction);
}

}  // namespace sel_ldr
