// The process plumbing of sandbox_bench: finding sel_ldr and the modules in the runfiles,
// starting child processes with exactly the descriptors they need, never leaving one
// unreaped, and the batch protocol (modules/batch_io.h) that drives a module over its stdin
// and stdout.
#ifndef TOOLS_BENCH_SANDBOX_BENCH_PROCESS_H_
#define TOOLS_BENCH_SANDBOX_BENCH_PROCESS_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/spawn.h"
#include "base/unique_fd.h"
#include "tools/runfiles/runfiles.h"

namespace sandbox_bench {

// Returns the absolute path of workspace file `path` (e.g. "sel_ldr/sel_ldr") in this
// binary's runfiles. NotFound if it is not among them.
using ::runfiles::Runfile;

// Returns both ends of a new pipe (read end first), close-on-exec.
absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> Pipe();

// Returns both ends of a new AF_UNIX SOCK_SEQPACKET socketpair, close-on-exec.
absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> SeqpacketPair();

// Reads exactly `size` bytes; Unavailable at end of input, else the read error.
absl::Status ReadExactly(int fd, void* out, size_t size);

// Writes all `size` bytes; the write error.
absl::Status WriteExactly(int fd, const void* data, size_t size);

// Pins process (or thread) `pid` to `cpu`; does nothing for -1. The sched_setaffinity error.
absl::Status PinProcess(pid_t pid, int cpu);

// Returns the first "`key` N kB" figure of a /proc file (`key` with its colon, "VmRSS:"),
// in KiB. Errors: the open error, or NotFound without such a line.
absl::StatusOr<double> ReadProcKib(const std::string& path, absl::string_view key);

// A descriptor a child gets: `from` here is `to` in the child.
using FdMapping = base::FdMapping;

// One child process. It gets stderr and the descriptors it is given, nothing else; it dies
// with this process (PR_SET_PDEATHSIG); and it is never left unreaped: the destructor kills
// and reaps it if nobody waited for it.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { Kill(); }

  // Starts `argv` (argv[0] is the path) with this process's environment on `cpu` (-1: this
  // process's CPUs), holding stderr and `fds`. Errors: the failing step of base::Spawn
  // (the exec error included).
  absl::Status Exec(const std::vector<std::string>& argv, const std::vector<FdMapping>& fds,
                    int cpu);

  // Forks a child like Exec() that runs `body` and exits with what it returns. The child runs
  // ordinary code, so only while this process has a single thread.
  absl::Status Fork(const std::vector<FdMapping>& fds, int cpu, const std::function<int()>& body);

  // The child's pid, or -1 once reaped.
  pid_t pid() const { return pid_; }

  // Waits for the child; an error unless it exited with status 0.
  absl::Status Wait();

  // Like Wait(), but kills the child and returns DeadlineExceeded if it has not ended after
  // `timeout`.
  absl::Status WaitWithin(absl::Duration timeout);

  // Kills the child, if it runs, and reaps it.
  void Kill();

 private:
  static base::SpawnOptions Options(const std::vector<FdMapping>& fds, int cpu);

  pid_t pid_ = -1;
};

// The benchmark's end of the batch protocol with one peer process: 8-byte counts out on the
// peer's stdin; the peer's pid, then 8-byte failure counts back from its stdout.
class BatchChannel {
 public:
  // Makes the pipes.
  absl::Status Open();

  // The peer's stdin and stdout, to give to the child process.
  std::vector<FdMapping> PeerStdio() const;

  // Closes this process's copies of the peer's ends once the peer has them, so that the
  // peer's death reads as the end of its output here.
  void ClosePeerEnds();

  // Reads the pid the peer reports first.
  absl::StatusOr<pid_t> ReadPid();

  // Has the peer perform `count` operations; an error if any failed or the peer is gone.
  absl::Status RunBatch(int64_t count);

  // Ends the peer's input, which ends the peer.
  void Close() { commands_.reset(); }

 private:
  base::UniqueFd commands_;
  base::UniqueFd replies_;
  base::UniqueFd peer_input_;
  base::UniqueFd peer_output_;
};

// The peer side of the protocol, for a forked process: reports getpid(), then runs batches
// of `operation` (true: it succeeded) from stdin until the end of input. Returns the exit
// status: 0 at the end of input, 1 if stdout failed.
int ServeBatches(const std::function<bool()>& operation);

}  // namespace sandbox_bench

#endif  // TOOLS_BENCH_SANDBOX_BENCH_PROCESS_H_
