#include "sel_ldr/prebuilt_policy.h"

#include <iterator>

#include "absl/strings/str_cat.h"
#include "sel_ldr/policy_template.h"

namespace sel_ldr {
namespace {

// kPolicyTemplates[answer_unserved_in_filter], written by //sel_ldr:policy_gen.
#include "sel_ldr/prebuilt_policy_templates.inc"

}  // namespace

absl::StatusOr<std::vector<sock_filter>> ModulePolicy(pid_t module_pid,
                                                      const PolicyOptions& options) {
  if (module_pid <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("no module pid ", module_pid));
  }
  return Instantiate(kPolicyTemplates[options.answer_unserved_in_filter ? 1 : 0], module_pid);
}

}  // namespace sel_ldr
