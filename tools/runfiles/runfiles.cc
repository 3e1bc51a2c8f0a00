#include "tools/runfiles/runfiles.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/cpp/runfiles/runfiles.h"

namespace runfiles {
namespace {

using ::bazel::tools::cpp::runfiles::Runfiles;

// The workspace's name (WORKSPACE's `workspace(name = ...)`): the runfiles directory of its
// files. Tests are told it in $TEST_WORKSPACE; this is its one other mention.
constexpr char kWorkspace[] = "sel_ldr_imc";

std::string Workspace() {
  const char* test_workspace = getenv("TEST_WORKSPACE");
  return test_workspace != nullptr && *test_workspace != '\0' ? test_workspace : kWorkspace;
}

// Bazel's lookup, made once: from the environment, else next to this program.
const Runfiles* Lookup(std::string* error) {
  static const Runfiles* const runfiles = [error] {
    char self[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    const std::string program(self, n > 0 ? static_cast<size_t>(n) : 0);
    return Runfiles::Create(program, error);
  }();
  return runfiles;
}

}  // namespace

absl::StatusOr<std::string> Runfile(absl::string_view path) {
  std::string error;
  const Runfiles* runfiles = Lookup(&error);
  if (runfiles == nullptr) {
    return absl::NotFoundError(absl::StrCat("no runfiles for ", path, ": ", error));
  }
  std::string located = runfiles->Rlocation(absl::StrCat(Workspace(), "/", path));
  if (located.empty() || access(located.c_str(), F_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(path, " is not in the runfiles"));
  }
  return located;
}

}  // namespace runfiles
