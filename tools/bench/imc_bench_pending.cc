#include "tools/bench/imc_bench_pending.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "imc/imc.h"
#include "tools/bench/bench_runner.h"
#include "tools/bench/imc_bench_sockets.h"
#include "tools/bench/sandbox_bench_process.h"

namespace imc_bench {
namespace {

double NowSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// --- pending_connections -------------------------------------------------------------------------

// Connection attempts stop here even if the kernel would take more.
constexpr int64_t kPendingConnectionCap = 100'000;
// Connector processes hold the connections (one fd each); at most this many of them.
constexpr int kMaxConnectorProcesses = 32;
// Fds a connector process keeps for other things than its connections.
constexpr rlim_t kConnectorSpareFds = 64;
// Run as root, each connector moves to a user id of its own (see ConnectorFleet). This range is
// clear of the 60000-63999 that imc's pending_connections_test uses.
constexpr uid_t kFirstConnectorUid = 64000;
constexpr uid_t kConnectorUidSlots = 40;

// How one side's queue filled up.
struct FillOutcome {
  int64_t pending = 0;
  int processes = 0;
  std::string stopped_by;
  std::string note;  // Anything that changes how to read the count.
  double seconds = 0;
};

// Processes that open connections and hold them, none accepted, until Release(). Each holds one fd
// per connection within its RLIMIT_NOFILE (raised to the hard limit). Run as root, each first moves
// to a user id of its own: the fds in flight inside pending requests are charged to the sending
// user and bounded by RLIMIT_NOFILE (for senders without CAP_SYS_RESOURCE or CAP_SYS_ADMIN), so
// 200,000 of them charged to root would make other root processes (sandboxed tests running
// alongside) fail to pass fds with ETOOMANYREFS.
class ConnectorFleet {
 public:
  // Opens one connection and keeps it; returns its error (EAGAIN: the queue is full).
  using ConnectOne = std::function<absl::Status()>;

  ConnectorFleet() = default;
  ConnectorFleet(const ConnectorFleet&) = delete;
  ConnectorFleet& operator=(const ConnectorFleet&) = delete;
  ~ConnectorFleet() { (void)Release(); }

  // Starts connector processes one after the other, each connecting with `connect_one` (keeping
  // `keep_fd` open for it) as long as its fds last, until one stops early or the total reaches
  // `cap`. `full` says what EAGAIN means. Returns the total and what stopped it.
  absl::StatusOr<FillOutcome> Fill(int keep_fd, int64_t cap, const char* full,
                                   const ConnectOne& connect_one) {
    const double start = NowSeconds();
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return Errno("getrlimit");
    // The most fds a process may have (fs.nr_open) is at least 1M; stay below it.
    const rlim_t fds = std::min<rlim_t>(limit.rlim_max, rlim_t{1} << 20);
    if (fds <= kConnectorSpareFds) return Unexpected("RLIMIT_NOFILE");
    const int64_t per_process = static_cast<int64_t>(fds - kConnectorSpareFds);
    const bool own_uids = geteuid() == 0;
    const uid_t first_uid =
        kFirstConnectorUid + (getpid() % kConnectorUidSlots) * kMaxConnectorProcesses;
    int release[2];
    if (!release_.valid()) {
      if (pipe2(release, O_CLOEXEC) != 0) return Errno("pipe2");
      release_.reset(release[1]);
      release_read_.reset(release[0]);
    }
    FillOutcome outcome;
    while (outcome.stopped_by.empty()) {
      if (outcome.pending >= cap) {
        outcome.stopped_by = absl::StrCat("the cap of ", cap);
        break;
      }
      if (outcome.processes == kMaxConnectorProcesses) {
        outcome.stopped_by = absl::StrCat(kMaxConnectorProcesses, " connector processes of ",
                                          per_process, " fds each");
        break;
      }
      const int64_t quota = std::min(per_process, cap - outcome.pending);
      ASSIGN_OR_RETURN(Report report,
                       StartConnector(keep_fd, fds, own_uids ? first_uid + outcome.processes : 0,
                                      quota, connect_one));
      ++outcome.processes;
      outcome.pending += report.connected;
      if (report.uid_error != 0 && outcome.note.empty()) {
        outcome.note =
            absl::StrCat("; the connectors kept uid ", geteuid(),
                         " (moving to a uid of their own: ", strerror(report.uid_error), ")");
      }
      if (report.error == EAGAIN) {
        outcome.stopped_by = absl::StrCat("EAGAIN: ", full);
      } else if (report.error == ETOOMANYREFS) {
        outcome.stopped_by = "ETOOMANYREFS: the fds in flight exceed the sender's RLIMIT_NOFILE";
      } else if (report.error != 0) {
        outcome.stopped_by = absl::StrCat(report.failed_step, ": ", strerror(report.error));
      }
    }
    outcome.seconds = NowSeconds() - start;
    return outcome;
  }

  // Lets every connector exit, which closes its connections, and reaps them all.
  absl::Status Release() {
    release_.reset();
    release_read_.reset();
    absl::Status status;
    for (pid_t pid : pids_) {
      int wait_status;
      pid_t reaped;
      do {
        reaped = waitpid(pid, &wait_status, 0);
      } while (reaped < 0 && errno == EINTR);
      if (reaped < 0) {
        if (status.ok()) status = Errno("waitpid");
      } else if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
        if (status.ok()) status = absl::InternalError("a connector process failed");
      }
    }
    pids_.clear();
    return status;
  }

 private:
  // What a connector tells the parent once it has stopped connecting.
  struct Report {
    int64_t connected = 0;
    int error = 0;  // 0: it made its quota.
    const char* failed_step = "";
    int uid_error = 0;  // Moving to a user id of its own failed with this errno.
  };

  absl::StatusOr<Report> StartConnector(int keep_fd, rlim_t fds, uid_t uid, int64_t quota,
                                        const ConnectOne& connect_one) {
    int report_pipe[2];
    if (pipe2(report_pipe, O_CLOEXEC) != 0) return Errno("pipe2");
    base::UniqueFd report_read(report_pipe[0]);
    base::UniqueFd report_write(report_pipe[1]);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return Errno("fork");
    if (pid == 0) {
      // Single-threaded parent: the child may allocate. It leaves with _exit only.
      CloseFdsExcept({0, 1, 2, keep_fd, report_write.get(), release_read_.get()});
      Report report;
      struct rlimit limit = {fds, fds};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        report.error = errno;
        report.failed_step = "setrlimit(RLIMIT_NOFILE)";
      } else {
        // Where the uid is not ours to choose (a user namespace that maps only this one), the
        // connectors stay where they are, and the kernel's limits say how far they get.
        if (uid != 0 && (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 ||
                         setresuid(uid, uid, uid) != 0)) {
          report.uid_error = errno;
        }
        // After the uid change, which clears the parent-death signal.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(120);
        for (; report.connected < quota; ++report.connected) {
          absl::Status connected = connect_one();
          if (!connected.ok()) {
            report.error = base::ErrnoOf(connected) != 0 ? base::ErrnoOf(connected) : EIO;
            report.failed_step = "connect";
            break;
          }
        }
      }
      if (write(report_write.get(), &report, sizeof(report)) != sizeof(report)) _exit(121);
      char byte;
      while (read(release_read_.get(), &byte, 1) < 0 && errno == EINTR) {
      }
      _exit(0);  // Closes every connection.
    }
    pids_.push_back(pid);
    report_write.reset();
    Report report;
    ssize_t got;
    do {
      got = read(report_read.get(), &report, sizeof(report));
    } while (got < 0 && errno == EINTR);
    if (got != sizeof(report)) return absl::InternalError("a connector process died");
    return report;
  }

  base::UniqueFd release_;
  base::UniqueFd release_read_;
  std::vector<pid_t> pids_;
};

void PrintOutcome(const char* side, const FillOutcome& outcome, const std::string& extra) {
  fprintf(stderr,
          "imc_bench: pending_connections %s: %lld pending in %.2f s (%d connector "
          "process%s), stopped by %s%s%s\n",
          side, static_cast<long long>(outcome.pending), outcome.seconds, outcome.processes,
          outcome.processes == 1 ? "" : "es", outcome.stopped_by.c_str(), extra.c_str(),
          outcome.note.c_str());
}

// The count is a limit, not a noisy time: each side fills its queue once, in SetUp(), and every
// repetition reports that count.
class PendingCount : public bench::Workload {
 public:
  absl::Status Run(int64_t) override { return absl::OkStatus(); }
  absl::StatusOr<double> Measure(int64_t) override { return static_cast<double>(pending_); }

 protected:
  int64_t pending_ = 0;
};

// Connect() without waiting, never accepted, until the kernel says EAGAIN or the cap.
class ImcPendingConnections : public PendingCount {
 public:
  absl::Status SetUp() override {
    // The library's ability, not sel_ldr's default cap of 4096: ask for the bench's cap.
    imc::BoundSocketOptions bound_options;
    bound_options.max_pending = static_cast<int>(kPendingConnectionCap);
    ASSIGN_OR_RETURN(auto bound_and_address, imc::MakeBoundSocket(bound_options));
    const imc::SocketAddress& address = bound_and_address.second;
    int buffer = 0;
    socklen_t length = sizeof(buffer);
    if (getsockopt(address.fd(), SOL_SOCKET, SO_SNDBUF, &buffer, &length) != 0) {
      return Errno("getsockopt(SO_SNDBUF)");
    }
    imc::ConnectOptions options;
    options.wait.nonblocking = true;
    // Filled in each connector process (its own copy).
    std::vector<imc::ConnectedSocket> connections;
    ConnectorFleet fleet;
    ASSIGN_OR_RETURN(FillOutcome outcome,
                     fleet.Fill(address.fd(), kPendingConnectionCap,
                                "the address's send buffer is full", [&]() -> absl::Status {
                                  ASSIGN_OR_RETURN(imc::ConnectedSocket connection,
                                                   address.Connect(options));
                                  connections.push_back(std::move(connection));
                                  return absl::OkStatus();
                                }));
    // Every request is one byte in the bound socket's queue: all are pending at once.
    int queued = 0;
    if (ioctl(bound_and_address.first.fd(), SIOCINQ, &queued) != 0) return Errno("SIOCINQ");
    if (queued != outcome.pending) return Unexpected("count of queued requests");
    RETURN_IF_ERROR(fleet.Release());
    PrintOutcome("ours", outcome, absl::StrCat("; address send buffer ", buffer, " bytes"));
    pending_ = outcome.pending;
    return absl::OkStatus();
  }  // The bound socket closes here, and with it every request.
};

// Nonblocking connect() to a socket listening with backlog INT_MAX (the kernel caps it at
// net.core.somaxconn), never accepted, until EAGAIN or the cap.
class LegacyPendingConnections : public PendingCount {
 public:
  absl::Status SetUp() override {
    AbstractName name;
    ASSIGN_OR_RETURN(base::UniqueFd listener, ListenAt(name, INT_MAX));
    std::vector<base::UniqueFd> connections;
    ConnectorFleet fleet;
    ASSIGN_OR_RETURN(
        FillOutcome outcome,
        fleet.Fill(-1, kPendingConnectionCap, "the listen backlog is full", [&]() -> absl::Status {
          ASSIGN_OR_RETURN(base::UniqueFd fd, ConnectTo(name, SOCK_NONBLOCK));
          connections.push_back(std::move(fd));
          return absl::OkStatus();
        }));
    RETURN_IF_ERROR(fleet.Release());
    int somaxconn = -1;
    if (FILE* file = fopen("/proc/sys/net/core/somaxconn", "r")) {
      if (fscanf(file, "%d", &somaxconn) != 1) somaxconn = -1;
      fclose(file);
    }
    PrintOutcome("legacy", outcome, absl::StrCat("; net.core.somaxconn = ", somaxconn));
    pending_ = outcome.pending;
    return absl::OkStatus();
  }
};

}  // namespace

std::vector<bench::Comparison> PendingComparisons(const bench::Placement&) {
  bench::Comparison pending = {
      "pending_connections",
      absl::StrCat("a count, measured once per run: connections queued on one bound socket, none "
                   "accepted (nonblocking Connect until EAGAIN or a cap of ",
                   kPendingConnectionCap,
                   "), vs nonblocking connect to a socket listening with backlog INT_MAX until "
                   "EAGAIN (the kernel caps the backlog at net.core.somaxconn); the connections "
                   "are held by connector processes within RLIMIT_NOFILE; stderr says what "
                   "stopped each side"),
      std::make_unique<ImcPendingConnections>(), std::make_unique<LegacyPendingConnections>()};
  pending.unit = "connections";
  pending.iterations = 1;
  std::vector<bench::Comparison> comparisons;
  comparisons.push_back(std::move(pending));
  return comparisons;
}

}  // namespace imc_bench
