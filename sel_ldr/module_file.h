// Opening a module and checking that it is something the loader can run: a static x86-64
// ELF executable.
#ifndef SEL_LDR_MODULE_FILE_H_
#define SEL_LDR_MODULE_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace sel_ldr {

// Opens `path` (close-on-exec) and checks its ELF header. Errors: NotFound (missing: ENOENT
// or ENOTDIR), the open errno's status for a file that exists but cannot be opened (EACCES,
// ELOOP, ...), FailedPrecondition (not a regular file, not ELF, not x86-64, dynamically
// linked), each with a message that says what is wrong.
absl::StatusOr<base::UniqueFd> OpenModule(const std::string& path);

}  // namespace sel_ldr

#endif  // SEL_LDR_MODULE_FILE_H_
