// The embedder's launcher: start a module under sel_ldr, get its service address, connect,
// wait, kill.
//
//   launcher::LaunchOptions options;
//   options.module_path = "echo_server.nexe";
//   ASSIGN_OR_RETURN(launcher::Module module, launcher::Module::Launch(options));
//   ASSIGN_OR_RETURN(imc::ConnectedSocket connection,
//                    module.Connect(absl::Now() + absl::Seconds(5)));
//   ... connection.Send(...), connection.Receive(...) ...
//   ASSIGN_OR_RETURN(launcher::ModuleExit exit, module.Wait(absl::Now() + absl::Seconds(5)));
//
// sel_ldr runs with -X: the launcher makes the bootstrap socketpair, sel_ldr creates the
// module's service socket (BoundSocket 3, SocketAddress 4) and sends the SocketAddress back.
// Every path reaps the sel_ldr process and closes every fd it opened.
#ifndef TOOLS_LAUNCHER_LAUNCHER_H_
#define TOOLS_LAUNCHER_LAUNCHER_H_

#include <stdint.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/unique_fd.h"
#include "imc/bound_socket.h"
#include "imc/message_socket.h"

namespace launcher {

// What happens to the module's stdout or stderr (its descriptors 1 and 2).
enum class Output {
  kForward,  // The launcher's own stdout / stderr.
  kCapture,  // Collected; read with Module::CapturedStdout() / CapturedStderr().
  kDiscard,  // /dev/null.
};

// A host fd handed to the module (sel_ldr's -h / -r / -w / -i).
struct GrantedFd {
  enum class Kind { kReadWrite, kReadOnly, kWriteOnly, kImc };
  int module_descriptor;
  base::UniqueFd fd;
  Kind kind = Kind::kReadWrite;
};

struct LaunchOptions {
  // sel_ldr to run; empty: FindSelLdr().
  std::string sel_ldr_path;
  // The module (a static ELF, e.g. built with tools/nacl-cc) and its arguments.
  std::string module_path;
  std::vector<std::string> args;
  // The module's environment (it gets no other).
  std::vector<std::pair<std::string, std::string>> environment;
  // Extra descriptors, moved into the module.
  std::vector<GrantedFd> descriptors;
  // The module's address-space limit (0: sel_ldr's default).
  uint64_t memory_limit = 0;
  Output stdout_mode = Output::kForward;
  Output stderr_mode = Output::kCapture;
  // Passes -v to sel_ldr: every trapped syscall is traced to the module's stderr stream.
  bool trace = false;
  // How long Launch() waits for the service address.
  absl::Duration start_timeout = absl::Seconds(10);
};

// How a module ended.
struct ModuleExit {
  // sel_ldr's exit status: the module's own, 128+N for signal N, 159 policy violation, 125
  // sandbox failure, 126 not a module, 127 missing module, 2 usage error.
  int status = 0;
  // sel_ldr itself was killed by a signal (e.g. by Kill()); 0 otherwise.
  int signal = 0;
  // sel_ldr's own messages ("sel_ldr: error: ...") from the captured stderr, if any.
  std::string message;

  bool policy_violation() const { return signal == 0 && status == 159; }
  // OK for status 0; otherwise an error that says how the module ended.
  absl::Status ToStatus() const;
};

class Module {
 public:
  // Starts sel_ldr on the module and waits (up to start_timeout) for its service address.
  // sel_ldr dies with its launcher (PR_SET_PDEATHSIG), which Linux ties to the calling
  // thread: call Launch() from a thread that outlives the module.
  // Errors: NotFound sel_ldr or the module file is missing; FailedPrecondition sel_ldr refused
  // the module or it ended before it started (with sel_ldr's status and message);
  // DeadlineExceeded no address in time; or the errno of a failed system call.
  static absl::StatusOr<Module> Launch(LaunchOptions options);

  Module(Module&&) noexcept;
  Module& operator=(Module&&) noexcept;
  // Kills and reaps sel_ldr if it still runs.
  ~Module();

  // The module's service address (its descriptor 4), to connect to or to pass on (e.g. dup
  // it with Duplicate() and send it in a message). Valid until CloseAddress().
  const imc::SocketAddress& address() const;

  // Closes the launcher's copy of the address. A module that serves until nobody can
  // connect any more (its accept then fails) ends once every other copy is gone too.
  void CloseAddress();

  // Connects and waits until the module accepted. Errors (errno): ETIMEDOUT at `deadline`,
  // ECONNREFUSED the module's service socket closed (the module exited) before accepting;
  // FailedPrecondition after CloseAddress().
  absl::StatusOr<imc::ConnectedSocket> Connect(absl::Time deadline) const;

  // Waits until sel_ldr exits. DeadlineExceeded if it still runs at `deadline`.
  absl::StatusOr<ModuleExit> Wait(absl::Time deadline);

  // Kills sel_ldr (and so the module) with SIGKILL. OK if it already exited.
  absl::Status Kill();

  // sel_ldr's pid (-1 once reaped).
  pid_t pid() const;

  // What the module wrote to stdout / stderr so far (Output::kCapture only).
  std::string CapturedStdout() const;
  std::string CapturedStderr() const;

 private:
  struct State;
  explicit Module(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Finds sel_ldr: $SEL_LDR, then Bazel runfiles of the running program, then next to it in
// bazel-bin, then PATH. NotFound lists where it looked.
absl::StatusOr<std::string> FindSelLdr();

}  // namespace launcher

#endif  // TOOLS_LAUNCHER_LAUNCHER_H_
