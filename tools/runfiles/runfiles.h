// The workspace's files in the running program's runfiles: under `bazel run`, `bazel test`,
// or a bazel-bin binary started directly. One lookup for every tool and test, through
// Bazel's runfiles library (directory or manifest, $RUNFILES_DIR, $TEST_SRCDIR).
#ifndef TOOLS_RUNFILES_RUNFILES_H_
#define TOOLS_RUNFILES_RUNFILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runfiles {

// Returns the absolute path of workspace file `path` (e.g. "sel_ldr/sel_ldr") in this
// program's runfiles. NotFound if the program has no runfiles or `path` is not among them.
absl::StatusOr<std::string> Runfile(absl::string_view path);

}  // namespace runfiles

#endif  // TOOLS_RUNFILES_RUNFILES_H_
