// Test support: runs sel_ldr on a module from the test's runfiles, with extra inherited fds,
// captured stdout and stderr, and a deadline after which sel_ldr is killed, so that no test
// can hang on a module.
#ifndef TESTS_SEL_LDR_RUNNER_H_
#define TESTS_SEL_LDR_RUNNER_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "base/unique_fd.h"
#include "imc/bound_socket.h"

namespace tests {

// How long a run may take before the runner kills sel_ldr. Generous: sel_ldr may be built
// with sanitizers, and CI machines are small.
inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(30);

// The path of `path` (relative to the workspace root) in this test's runfiles. Empty if it
// is not among them.
std::string RunfilePath(absl::string_view path);

// sel_ldr in the runfiles.
std::string SelLdrPath();

// tests/modules/<name>.nexe in the runfiles.
std::string ModulePath(absl::string_view name);

// A directory this test may write to (TEST_TMPDIR).
std::string TestTempDir();

// What to run.
struct SelLdrCommand {
  // sel_ldr's options, before the module.
  std::vector<std::string> flags;
  // The module's path; empty: none is given.
  std::string module;
  // The module's arguments.
  std::vector<std::string> args;
  // Host fds sel_ldr inherits: {its fd number (3 or more), this process's fd}. sel_ldr inherits
  // nothing else but stdio.
  std::vector<std::pair<int, int>> fds;
  // Give sel_ldr a pipe as stdin (see SelLdrProcess::WriteStdin); otherwise /dev/null.
  bool pipe_stdin = false;
  // sel_ldr's RLIMIT_NOFILE {soft, hard}, set before its exec; unset: this process's.
  absl::optional<std::pair<rlim_t, rlim_t>> descriptor_limit;
};

// How a run ended.
struct SelLdrResult {
  // Set if sel_ldr exited; otherwise it died of `signal`.
  bool exited = false;
  int exit_status = -1;
  int signal = 0;
  std::string out;  // Its stdout.
  std::string err;  // Its stderr.

  // "exit 3" or "signal 9", then stdout and stderr: for failure messages.
  std::string Describe() const;
};

// A running sel_ldr, in its own process group. Destroying it kills and reaps it.
class SelLdrProcess {
 public:
  // Starts sel_ldr. Errors: the pipe, fork or exec error.
  static absl::StatusOr<std::unique_ptr<SelLdrProcess>> Start(const SelLdrCommand& command);

  SelLdrProcess(const SelLdrProcess&) = delete;
  SelLdrProcess& operator=(const SelLdrProcess&) = delete;
  ~SelLdrProcess();

  pid_t pid() const { return pid_; }

  // Writes all of `data` to sel_ldr's stdin (SelLdrCommand::pipe_stdin). Errors: the write
  // error (EPIPE once sel_ldr is gone).
  absl::Status WriteStdin(absl::string_view data);
  // Closes sel_ldr's stdin: it reads end of file.
  void CloseStdin() { stdin_.reset(); }

  // Returns the next line sel_ldr writes to stdout, without its newline. Errors:
  // DeadlineExceeded after `timeout`, OutOfRange if stdout ended first (the messages carry
  // what was read).
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout = kDefaultTimeout);

  // Waits until sel_ldr exits and its stdout and stderr end, and returns how it ended (with
  // all of its output not yet consumed by ReadLine). After `timeout` it is killed and the
  // result is DeadlineExceeded, carrying the output so far.
  absl::StatusOr<SelLdrResult> Wait(absl::Duration timeout = kDefaultTimeout);

  // Sends `signal` to sel_ldr (not to the module).
  void Kill(int signal);

 private:
  SelLdrProcess() = default;

  // Reads what is available from stdout and stderr, waiting at most until `deadline` for
  // something to happen. Returns false once nothing more can happen (both ended, and
  // sel_ldr was reaped when `reap` is set).
  bool Pump(absl::Time deadline, bool reap);
  void Reap(int wait_flags);

  pid_t pid_ = -1;
  base::UniqueFd pidfd_;
  base::UniqueFd stdin_;
  base::UniqueFd stdout_;
  base::UniqueFd stderr_;
  std::string out_;
  std::string err_;
  bool reaped_ = false;
  int wait_status_ = 0;
};

// The whole content of the file at `path`; "" if it cannot be read.
std::string ReadFile(const std::string& path);

// The pid of the module `sel_ldr` runs (its one child), or -1 if it has none or several.
pid_t ModulePidOf(pid_t sel_ldr);

// Runs tests/modules/escape's `wait_for_stdin` case under sel_ldr with `flags`: once the
// module runs (and waits for a line on stdin), calls `inspect` with its pid, then lets it
// end. Returns how sel_ldr ended; errors if it did not start or the module had no pid.
absl::StatusOr<SelLdrResult> RunInspectingModule(const std::vector<std::string>& flags,
                                                 const std::function<void(pid_t)>& inspect);

// The namespace `kind` ("net", "ipc", ...) of process `pid` as /proc names it
// ("net:[4026531840]"), or "unreadable ..." naming the link.
std::string NamespaceOf(pid_t pid, absl::string_view kind);

// Starts sel_ldr with `command` and waits for it (see SelLdrProcess::Wait).
absl::StatusOr<SelLdrResult> RunSelLdr(const SelLdrCommand& command,
                                       absl::Duration timeout = kDefaultTimeout);

// Splits `text` into lines (without their newlines; no empty last line).
std::vector<std::string> Lines(absl::string_view text);

// One line "CASE <name> expected=<E> actual=<A>" of a test module (tests/modules/report.h).
struct CaseReport {
  std::string name;  // May hold spaces.
  std::string expected;
  std::string actual;
};

// The CASE lines of a module's output `out`, in order; other lines are left out.
std::vector<CaseReport> CaseReports(absl::string_view out);

// A pair of connected host IMC sockets: socketpair(AF_UNIX, SOCK_SEQPACKET), close-on-exec.
// Errors: the socketpair error.
absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> MakeImcSocketPair();

// Receives the module's service address, which `sel_ldr -X` sends over its end of a
// socketpair; `bootstrap` is the other end (consumed). Errors: the receive error (ETIMEDOUT
// after `timeout`), or InvalidArgument if the message is not one SocketAddress.
absl::StatusOr<imc::SocketAddress> ReceiveServiceAddress(base::UniqueFd bootstrap,
                                                         absl::Duration timeout = kDefaultTimeout);

}  // namespace tests

#endif  // TESTS_SEL_LDR_RUNNER_H_
