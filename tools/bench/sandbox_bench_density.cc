#include "tools/bench/sandbox_bench_density.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "imc/imc.h"
#include "tools/bench/sandbox_bench_process.h"
#include "tools/launcher/launcher.h"

namespace sandbox_bench {
namespace {

// Runfiles, relative to the workspace.
constexpr char kSelLdr[] = "sel_ldr/sel_ldr";
constexpr char kEchoModule[] = "tools/modules/echo_server.nexe";
constexpr char kNativeEcho[] = "tools/bench/native_echo_server";

// The bootstrap socket's fd in native_echo_server, as sel_ldr's -X 3.
constexpr int kBootstrapFd = 3;
// How long one server may take to send its address, and all of them to exit at the end.
constexpr absl::Duration kStartTimeout = absl::Seconds(20);
constexpr absl::Duration kExitTimeout = absl::Seconds(60);
// How long the servers settle, once all run, before their memory is first read.
constexpr absl::Duration kSettle = absl::Milliseconds(200);
// Picks per repetition of density_connect_echo, and the bytes each echoes.
constexpr int64_t kPicks = 100;
constexpr size_t kEchoBytes = 64;
// The picks' seed: both sides pick the same servers in the same order.
constexpr uint32_t kPickSeed = 12;

enum class Side {
  kSelLdr,  // echo_server.nexe under sel_ldr -X, by launcher::Module::Launch.
  kNative,  // native_echo_server, a plain process.
};

// Raises the soft RLIMIT_NOFILE to the hard one: each server costs this process one or two
// fds (its address, sel_ldr's pidfd) and every process it starts inherits the limit.
absl::Status RaiseFdLimit(rlim_t wanted) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return base::ErrnoStatus(errno, "getrlimit");
  if (limit.rlim_cur >= wanted) return absl::OkStatus();
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
    return absl::ResourceExhaustedError(
        absl::StrCat("RLIMIT_NOFILE's hard limit ", limit.rlim_max, " is below the ", wanted,
                     " fds the density rows need; use fewer modules"));
  }
  limit.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return base::ErrnoStatus(errno, "setrlimit");
  return absl::OkStatus();
}

// Returns the Pss of /proc/`pid`/smaps_rollup, in KiB.
absl::StatusOr<double> PssKib(pid_t pid) {
  return ReadProcKib(absl::StrCat("/proc/", pid, "/smaps_rollup"), "Pss:");
}

// Returns the children of every process in `parents` (all processes' parents, from
// /proc/PID/stat: this kernel has no /proc/PID/task/TID/children).
std::map<pid_t, std::vector<pid_t>> ChildrenOf(const std::vector<pid_t>& parents) {
  std::map<pid_t, std::vector<pid_t>> children;
  for (pid_t parent : parents) children[parent];
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (dirent* entry = readdir(proc)) {
    int pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    base::UniqueFd stat(open(absl::StrCat("/proc/", pid, "/stat").c_str(), O_RDONLY | O_CLOEXEC));
    if (!stat.valid()) continue;  // It ended meanwhile.
    char text[512];
    const ssize_t n = read(stat.get(), text, sizeof(text) - 1);
    if (n <= 0) continue;
    text[n] = '\0';
    // "PID (COMM) STATE PPID ...": COMM may hold anything, so parse after its last ')'.
    const char* end = strrchr(text, ')');
    char state;
    int ppid;
    if (end == nullptr || sscanf(end + 1, " %c %d", &state, &ppid) != 2) continue;
    auto found = children.find(ppid);
    if (found != children.end()) found->second.push_back(pid);
  }
  closedir(proc);
  return children;
}

// N echo servers of one side, running at once.
class EchoFleet {
 public:
  // `users`: how many workloads share the fleet; the last Release() tears it down.
  EchoFleet(Side side, int size, int users) : side_(side), size_(size), users_(users) {}
  EchoFleet(const EchoFleet&) = delete;
  EchoFleet& operator=(const EchoFleet&) = delete;
  // Kills and reaps whatever still runs (the launcher's Module and ChildProcess do).
  ~EchoFleet() = default;

  // Starts the servers on the first call; later calls return how that went.
  absl::Status Acquire() {
    if (!started_) {
      started_ = true;
      start_status_ = Start();
      if (!start_status_.ok()) Kill();
    }
    return start_status_;
  }

  // Tears the fleet down at the last user's release: closes every address, so that each
  // server's accept fails and it exits, and waits for each to exit 0.
  absl::Status Release() {
    if (++released_ < users_ || stopped_) return absl::OkStatus();
    return Stop();
  }

  int size() const { return size_; }

  // The sum of the Pss of every process of the fleet (sel_ldr and its module, or the plain
  // process), in KiB.
  absl::StatusOr<double> TotalPssKib() const {
    double total = 0;
    for (pid_t pid : pids_) {
      ASSIGN_OR_RETURN(double kib, PssKib(pid));
      total += kib;
    }
    return total;
  }

  // Connects to server `index`, has it echo kEchoBytes and closes the connection.
  absl::Status ConnectEcho(int index) const {
    ASSIGN_OR_RETURN(imc::ConnectedSocket connection, addresses_[index].Connect());
    char out[kEchoBytes];
    memset(out, 'd', sizeof(out));
    iovec out_iov = {out, sizeof(out)};
    imc::OutgoingMessage message;
    message.data = {&out_iov, 1};
    RETURN_IF_ERROR(connection.Send(message));
    char in[kEchoBytes + 1];
    iovec in_iov = {in, sizeof(in)};
    ASSIGN_OR_RETURN(imc::ReceivedMessage echo, connection.Receive({&in_iov, 1}, 0));
    if (echo.bytes != kEchoBytes || memcmp(in, out, kEchoBytes) != 0) {
      return absl::InternalError(absl::StrCat("server ", index, " echoed ", echo.bytes,
                                              " bytes that differ from the ", kEchoBytes, " sent"));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Start() {
    // Per server: its address and sel_ldr's pidfd here, a connection at a time; a margin for
    // the rest of the benchmark.
    RETURN_IF_ERROR(RaiseFdLimit(static_cast<rlim_t>(4 * size_ + 1024)));
    ASSIGN_OR_RETURN(std::string sel_ldr, Runfile(kSelLdr));
    ASSIGN_OR_RETURN(std::string echo_module, Runfile(kEchoModule));
    ASSIGN_OR_RETURN(std::string native_echo, Runfile(kNativeEcho));
    base::UniqueFd dev_null(open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!dev_null.valid()) return base::ErrnoStatus(errno, "open /dev/null");
    for (int i = 0; i < size_; ++i) {
      if (side_ == Side::kSelLdr) {
        launcher::LaunchOptions options;
        options.sel_ldr_path = sel_ldr;
        options.module_path = echo_module;
        options.stdout_mode = launcher::Output::kDiscard;
        options.stderr_mode = launcher::Output::kForward;  // No reader thread per module.
        options.start_timeout = kStartTimeout;
        absl::StatusOr<launcher::Module> module = launcher::Module::Launch(std::move(options));
        if (!module.ok()) {
          return absl::Status(module.status().code(),
                              absl::StrCat("module ", i, ": ", module.status().message()));
        }
        ASSIGN_OR_RETURN(imc::SocketAddress address, module->address().Duplicate());
        module->CloseAddress();
        addresses_.push_back(std::move(address));
        modules_.push_back(std::move(*module));
      } else {
        ASSIGN_OR_RETURN(auto ends, SeqpacketPair());
        auto process = std::make_unique<ChildProcess>();
        RETURN_IF_ERROR(process->Exec(
            {native_echo}, {{dev_null.get(), 0}, {dev_null.get(), 1}, {ends.second.get(), 3}}, -1));
        processes_.push_back(std::move(process));
        ends.second.reset();
        ASSIGN_OR_RETURN(imc::ConnectedSocket bootstrap,
                         imc::ConnectedSocket::FromHostSocket(std::move(ends.first)));
        imc::WaitOptions wait;
        wait.deadline = absl::Now() + kStartTimeout;
        absl::StatusOr<imc::ReceivedMessage> hello = bootstrap.Receive({}, 1, wait);
        if (!hello.ok()) {
          return absl::Status(hello.status().code(),
                              absl::StrCat("native_echo_server ", i,
                                           " sent no address: ", hello.status().message()));
        }
        if (hello->descriptors.size() != 1 ||
            hello->descriptors[0].kind != imc::DescriptorKind::kSocketAddress) {
          return absl::InternalError("native_echo_server sent no SocketAddress");
        }
        addresses_.push_back(imc::SocketAddress::Adopt(std::move(hello->descriptors[0].fd)));
      }
    }
    // The processes to measure: each sel_ldr and its one child, the module (which sel_ldr
    // may start after it sent the address); or the plain ones.
    if (side_ == Side::kSelLdr) {
      std::vector<pid_t> loaders;
      for (const launcher::Module& module : modules_) loaders.push_back(module.pid());
      const absl::Time deadline = absl::Now() + kStartTimeout;
      for (;;) {
        std::map<pid_t, std::vector<pid_t>> children = ChildrenOf(loaders);
        auto odd = std::find_if(loaders.begin(), loaders.end(),
                                [&children](pid_t loader) { return children[loader].size() != 1; });
        if (odd == loaders.end()) {
          for (pid_t loader : loaders) {
            pids_.push_back(loader);
            pids_.push_back(children[loader][0]);
          }
          break;
        }
        if (absl::Now() > deadline) {
          return absl::InternalError(absl::StrCat("sel_ldr ", *odd, " has ", children[*odd].size(),
                                                  " child processes, not its one module"));
        }
        absl::SleepFor(absl::Milliseconds(50));
      }
    } else {
      for (const auto& process : processes_) pids_.push_back(process->pid());
    }
    absl::SleepFor(kSettle);
    return absl::OkStatus();
  }

  absl::Status Stop() {
    stopped_ = true;
    addresses_.clear();  // Every server's accept now fails, and it exits 0.
    const absl::Time deadline = absl::Now() + kExitTimeout;
    absl::Status status;
    for (launcher::Module& module : modules_) {
      absl::StatusOr<launcher::ModuleExit> exit = module.Wait(deadline);
      absl::Status ended = exit.ok() ? exit->ToStatus() : exit.status();
      if (status.ok() && !ended.ok()) status = ended;
    }
    for (auto& process : processes_) {
      absl::Status ended =
          process->WaitWithin(std::max(deadline - absl::Now(), absl::ZeroDuration()));
      if (status.ok() && !ended.ok()) status = ended;
    }
    Kill();
    return status;
  }

  // Kills and reaps every process left.
  void Kill() {
    addresses_.clear();
    pids_.clear();
    for (launcher::Module& module : modules_) (void)module.Kill();
    modules_.clear();    // Each reaps its sel_ldr.
    processes_.clear();  // Each kills and reaps its process.
  }

  const Side side_;
  const int size_;
  const int users_;
  bool started_ = false;
  bool stopped_ = false;
  int released_ = 0;
  absl::Status start_status_;
  std::vector<launcher::Module> modules_;                 // kSelLdr.
  std::vector<std::unique_ptr<ChildProcess>> processes_;  // kNative.
  std::vector<imc::SocketAddress> addresses_;             // One per server.
  std::vector<pid_t> pids_;                               // The processes to measure.
};

// A workload on a shared fleet: acquires it at set-up, releases it at tear-down.
class FleetWorkload : public bench::Workload {
 public:
  explicit FleetWorkload(std::shared_ptr<EchoFleet> fleet) : fleet_(std::move(fleet)) {}

  absl::Status SetUp() override { return fleet_->Acquire(); }
  absl::Status TearDown() override { return fleet_->Release(); }

 protected:
  const std::shared_ptr<EchoFleet> fleet_;
};

// The fleet's memory: its total Pss in MiB, or that per server in KiB.
class FleetPss : public FleetWorkload {
 public:
  enum class Figure { kPerServerKib, kTotalMib };
  FleetPss(std::shared_ptr<EchoFleet> fleet, Figure figure)
      : FleetWorkload(std::move(fleet)), figure_(figure) {}

  absl::Status Run(int64_t) override { return absl::OkStatus(); }

  absl::StatusOr<double> Measure(int64_t) override {
    ASSIGN_OR_RETURN(double total_kib, fleet_->TotalPssKib());
    return figure_ == Figure::kTotalMib ? total_kib / 1024 : total_kib / fleet_->size();
  }

 private:
  const Figure figure_;
};

int64_t NowNanoseconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Connect + echo + close to randomly picked servers; a figure is the median of the picks.
class FleetConnectEcho : public FleetWorkload {
 public:
  explicit FleetConnectEcho(std::shared_ptr<EchoFleet> fleet)
      : FleetWorkload(std::move(fleet)), picks_(kPickSeed) {}

  absl::Status Run(int64_t iterations) override {
    for (int64_t i = 0; i < iterations; ++i) RETURN_IF_ERROR(fleet_->ConnectEcho(Pick()));
    return absl::OkStatus();
  }

  absl::StatusOr<double> Measure(int64_t iterations) override {
    std::vector<double> ns;
    for (int64_t i = 0; i < iterations; ++i) {
      const int index = Pick();
      const int64_t start = NowNanoseconds();
      RETURN_IF_ERROR(fleet_->ConnectEcho(index));
      ns.push_back(static_cast<double>(NowNanoseconds() - start));
    }
    if (ns.empty()) return absl::InvalidArgumentError("no picks");
    std::sort(ns.begin(), ns.end());
    const size_t n = ns.size();
    return n % 2 == 1 ? ns[n / 2] : (ns[n / 2 - 1] + ns[n / 2]) / 2;
  }

 private:
  int Pick() { return static_cast<int>(picks_() % static_cast<uint32_t>(fleet_->size())); }

  std::mt19937 picks_;
};

}  // namespace

std::vector<bench::Comparison> MakeDensityComparisons(int modules) {
  constexpr int kRows = 3;
  auto ours = std::make_shared<EchoFleet>(Side::kSelLdr, modules, kRows);
  auto baseline = std::make_shared<EchoFleet>(Side::kNative, modules, kRows);
  const std::string fleets = absl::StrCat(
      modules,
      " idle echo servers at once: tools/modules:echo_server under sel_ldr -X (launcher API) "
      "vs native_echo_server, the same accept-and-echo loop as a plain process with the imc "
      "library (the module's binary cannot serve without sel_ldr: its IMC calls are sel_ldr's)");
  std::vector<bench::Comparison> comparisons;
  bench::Comparison per_module = {
      "density_pss_per_module",
      absl::StrCat("Pss (smaps_rollup) of sel_ldr plus its module, per module, of ", fleets),
      std::make_unique<FleetPss>(ours, FleetPss::Figure::kPerServerKib),
      std::make_unique<FleetPss>(baseline, FleetPss::Figure::kPerServerKib)};
  per_module.unit = "KiB";
  per_module.iterations = 1;
  comparisons.push_back(std::move(per_module));
  bench::Comparison total = {"density_pss_total",
                             absl::StrCat("density_pss_per_module summed over all ", modules),
                             std::make_unique<FleetPss>(ours, FleetPss::Figure::kTotalMib),
                             std::make_unique<FleetPss>(baseline, FleetPss::Figure::kTotalMib)};
  total.unit = "MiB";
  total.iterations = 1;
  comparisons.push_back(std::move(total));
  bench::Comparison connect = {
      "density_connect_echo",
      absl::StrCat("connect + a ", kEchoBytes, "-byte echo + close to a random one of the ",
                   modules, " (the median of ", kPicks,
                   " picks, the same on both sides; all on the benchmark's CPU)"),
      std::make_unique<FleetConnectEcho>(ours), std::make_unique<FleetConnectEcho>(baseline)};
  connect.iterations = kPicks;
  comparisons.push_back(std::move(connect));
  return comparisons;
}

}  // namespace sandbox_bench
