// sel_ldr's command line: Native Client's letters, plus long forms.
#ifndef SEL_LDR_OPTIONS_H_
#define SEL_LDR_OPTIONS_H_

#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"

namespace sel_ldr {

// A host fd handed to the module.
struct GrantedDescriptor {
  enum class Kind { kReadWrite, kReadOnly, kWriteOnly, kImc };
  Kind kind;
  int module_descriptor;  // d: the module's number for it.
  int host_fd;            // D: sel_ldr's fd.
  std::string flag;       // As written, for messages ("-h 5:9").
};

// -m DIR[:ro]: a host directory as the module's root.
struct MountOption {
  std::string directory;
  bool read_only = false;
};

struct LoaderOptions {
  std::string module_path;
  std::vector<std::string> module_args;  // After the module path.
  std::vector<GrantedDescriptor> descriptors;
  absl::optional<int> bootstrap_fd;                              // -X D.
  std::vector<std::pair<std::string, std::string>> environment;  // -E, in order.
  bool pass_host_environment = false;                            // -p.
  absl::optional<MountOption> mount;                             // -m DIR[:ro].
  bool allow_files = false;  // -a: NaCl's host file access; gives nothing beyond -m.
  int verbosity = 0;         // -v, repeatable.
  bool quiet = false;        // -q.
  uint64_t address_space_limit = uint64_t{8} << 30;  // --memory-limit.
  int max_pending_connections = 4096;                // --max-pending-connections, per bound socket.
  int max_threads = 256;  // --max-threads: the module's threads, main included.
  bool help = false;
  bool version = false;
};

// Parses argv (argv[0] is the program). Errors are usage errors (InvalidArgument) with a
// one-line reason that names the bad argument.
absl::StatusOr<LoaderOptions> ParseLoaderOptions(const std::vector<std::string>& argv);

// The --help text.
std::string LoaderUsage();

// Exit statuses of sel_ldr itself. Otherwise it exits with the module's status, or
// 128 + signal if the module died of a signal.
inline constexpr int kExitUsage = 2;
// The largest --max-threads.
inline constexpr int kMaxThreadsLimit = 65536;
inline constexpr int kExitSandboxFailed = 125;
inline constexpr int kExitModuleInvalid = 126;
inline constexpr int kExitModuleMissing = 127;
inline constexpr int kExitPolicyViolation = 128 + 31;  // As if killed by SIGSYS.

}  // namespace sel_ldr

#endif  // SEL_LDR_OPTIONS_H_
