// A module's seccomp program with the places of the module's pid marked: what
// //sel_ldr:policy_gen prebuilds (sel_ldr/prebuilt_policy.h) and each launch fills in.
#ifndef SEL_LDR_POLICY_TEMPLATE_H_
#define SEL_LDR_POLICY_TEMPLATE_H_

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vector>

namespace sel_ldr {

struct PolicyTemplate {
  const sock_filter* instructions;
  size_t length;
  const uint16_t* pid_at;  // Instructions whose `k` is the module's pid.
  size_t pid_count;
};

// Returns the program of `policy` with `pid` put in its places.
std::vector<sock_filter> Instantiate(const PolicyTemplate& policy, pid_t pid);

// True if `a` and `b` are the same instruction / the same program.
bool SameInstruction(const sock_filter& a, const sock_filter& b);
bool SameProgram(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b);

}  // namespace sel_ldr

#endif  // SEL_LDR_POLICY_TEMPLATE_H_
