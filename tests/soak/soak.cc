// The soak driver: one long-lived sandboxed module (soak_module.nexe, started with the
// launcher API as an embedder would) takes N mixed operations: host connects and the
// module's accepts, messages with descriptors (shared memory and host fds, echoed back),
// dups and closes, shared memory the module maps and unmaps, the module's own connect and
// accept, socket pairs and bound sockets. Every --report-every operations it prints
// sel_ldr's open fds, threads and RSS (from /proc/<pid>/fd and /proc/<pid>/status).
//
//   ./bazelw run -c opt //tests/soak -- --ops 1000000
//
// Bounds: after a warm-up (the first tenth of the operations, at most 10,000), sel_ldr's fds
// and threads may not grow by more than --max-fd-growth (default 8) and
// --max-thread-growth (default 8), nor its RSS by more than --max-rss-growth-mb (default
// 32); the driver checks at every report and at the end and exits 1 if any is exceeded (2
// for a usage error, 1 for any failed operation).
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "base/process_usage.h"
#include "base/unique_fd.h"
#include "imc/imc.h"
#include "tools/launcher/launcher.h"

namespace {

struct Flags {
  int64_t ops = 1'000'000;
  int64_t report_every = 100'000;
  int max_fd_growth = 8;
  int max_thread_growth = 8;
  int64_t max_rss_growth_mb = 32;
};

constexpr char kUsage[] =
    "Usage: soak [--ops N] [--report-every N] [--max-fd-growth N] [--max-thread-growth N]\n"
    "            [--max-rss-growth-mb N]\n"
    "Drives N mixed operations (default 1000000) through one sandboxed module and prints\n"
    "sel_ldr's fds, threads and RSS every --report-every (default 100000). Exits 1 if, after\n"
    "a warm-up of min(N/10, 10000) operations, fds grew by more than --max-fd-growth\n"
    "(default 8), threads by more than --max-thread-growth (default 8) or RSS by more than\n"
    "--max-rss-growth-mb (default 32), or if any operation failed.\n";

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg != "--help" && i + 1 < argc) {
      value = argv[++i];
    }
    int64_t number = 0;
    if (arg == "--help") {
      fputs(kUsage, stdout);
      exit(0);
    }
    if (!absl::SimpleAtoi(value, &number) || number < 0) {
      fprintf(stderr, "soak: %s needs a number, got '%s'\n%s", arg.c_str(), value.c_str(), kUsage);
      return false;
    }
    if (arg == "--ops") {
      flags->ops = number;
    } else if (arg == "--report-every" && number > 0) {
      flags->report_every = number;
    } else if (arg == "--max-fd-growth") {
      flags->max_fd_growth = static_cast<int>(number);
    } else if (arg == "--max-thread-growth") {
      flags->max_thread_growth = static_cast<int>(number);
    } else if (arg == "--max-rss-growth-mb") {
      flags->max_rss_growth_mb = number;
    } else {
      fprintf(stderr, "soak: unknown option %s\n%s", arg.c_str(), kUsage);
      return false;
    }
  }
  return true;
}

std::string Runfile(const std::string& path) {
  for (const char* var : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (const char* dir = getenv(var)) return absl::StrCat(dir, "/sel_ldr_imc/", path);
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  return absl::StrCat(std::string(self, n > 0 ? static_cast<size_t>(n) : 0),
                      ".runfiles/sel_ldr_imc/", path);
}

class Driver {
 public:
  Driver(launcher::Module* module, const Flags& flags) : module_(module), flags_(flags) {}

  int Run() {
    const int64_t warm_up = std::min<int64_t>(flags_.ops / 10, 10'000);
    const absl::Time start = absl::Now();
    base::ProcessUsage baseline = base::UsageOf(module_->pid());
    printf("%10s %8s %8s %10s %10s\n", "ops", "fds", "threads", "rss_kb", "ops/s");
    Print(0, baseline, start);
    for (int64_t op = 1; op <= flags_.ops; ++op) {
      absl::Status done = Step(op);
      if (!done.ok()) {
        fprintf(stderr, "soak: operation %lld failed: %s\n", static_cast<long long>(op),
                done.ToString().c_str());
        return 1;
      }
      if (op == warm_up) {
        baseline = base::UsageOf(module_->pid());
        printf("baseline after %lld warm-up ops: %d fds, %d threads, %lld kB\n",
               static_cast<long long>(op), baseline.fds, baseline.threads,
               static_cast<long long>(baseline.rss_kib));
      }
      if (op % flags_.report_every == 0 || op == flags_.ops) {
        const base::ProcessUsage usage = base::UsageOf(module_->pid());
        Print(op, usage, start);
        if (op >= warm_up && !WithinBounds(baseline, usage)) return 1;
      }
    }
    return 0;
  }

 private:
  void Print(int64_t op, const base::ProcessUsage& usage, absl::Time start) {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    printf("%10lld %8d %8d %10lld %10.0f\n", static_cast<long long>(op), usage.fds, usage.threads,
           static_cast<long long>(usage.rss_kib),
           seconds > 0 ? static_cast<double>(op) / seconds : 0.0);
    fflush(stdout);
  }

  bool WithinBounds(const base::ProcessUsage& baseline, const base::ProcessUsage& usage) {
    bool ok = true;
    if (usage.fds < 0 || usage.fds > baseline.fds + flags_.max_fd_growth) {
      fprintf(stderr, "soak: sel_ldr has %d fds, %d after the warm-up (bound +%d)\n", usage.fds,
              baseline.fds, flags_.max_fd_growth);
      ok = false;
    }
    if (usage.threads < 0 || usage.threads > baseline.threads + flags_.max_thread_growth) {
      fprintf(stderr, "soak: sel_ldr has %d threads, %d after the warm-up (bound +%d)\n",
              usage.threads, baseline.threads, flags_.max_thread_growth);
      ok = false;
    }
    if (usage.rss_kib < 0 || usage.rss_kib > baseline.rss_kib + flags_.max_rss_growth_mb * 1024) {
      fprintf(stderr, "soak: sel_ldr's RSS is %lld kB, %lld after the warm-up (bound +%lld MB)\n",
              static_cast<long long>(usage.rss_kib), static_cast<long long>(baseline.rss_kib),
              static_cast<long long>(flags_.max_rss_growth_mb));
      ok = false;
    }
    return ok;
  }

  // A deterministic mix (xorshift): every kind of operation, in varying order.
  uint32_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

  absl::Status Step(int64_t op) {
    if (!connection_.has_value()) {
      absl::Status connected = Connect();
      if (!connected.ok()) return connected;
    }
    const uint32_t pick = Next() % 100;
    if (pick < 30) return Echo(op, Next() % 3);
    if (pick < 45) return Command('m', 1);
    if (pick < 60) return Command('d', 0);
    if (pick < 75) return Command('c', 0);
    if (pick < 90) return Command('p', 0);
    if (pick < 95) {
      absl::Status status = Command('q', 0);
      connection_.reset();
      return status;
    }
    // The host closes the connection itself; the module sees the peer gone.
    connection_.reset();
    return absl::OkStatus();
  }

  absl::Status Connect() {
    absl::StatusOr<imc::ConnectedSocket> connection =
        module_->Connect(absl::Now() + absl::Seconds(10));
    if (!connection.ok()) return connection.status();
    connection_.emplace(std::move(*connection));
    return absl::OkStatus();
  }

  // Sends 'e' with `count` descriptors (shared memory, a host fd) and checks the echo.
  absl::Status Echo(int64_t op, uint32_t count) {
    std::string data = absl::StrCat("e", op);
    std::vector<imc::OutgoingDescriptor> descriptors;
    absl::optional<imc::SharedMemory> memory;
    base::UniqueFd null;
    if (count >= 1) {
      absl::StatusOr<imc::SharedMemory> made = imc::SharedMemory::Create(4096);
      if (!made.ok()) return made.status();
      memory.emplace(std::move(*made));
      descriptors.push_back({imc::DescriptorKind::kSharedMemory, memory->fd()});
    }
    if (count >= 2) {
      null = base::UniqueFd(open("/dev/null", O_RDWR | O_CLOEXEC));
      descriptors.push_back({imc::DescriptorKind::kHostIo, null.get()});
    }
    iovec iov = {data.data(), data.size()};
    absl::Status sent = connection_->Send({{&iov, 1}, descriptors}, Wait());
    if (!sent.ok()) return sent;
    return Expect(data, count);
  }

  absl::Status Command(char command, size_t descriptors) {
    iovec iov = {&command, 1};
    absl::Status sent = connection_->Send({{&iov, 1}, {}}, Wait());
    if (!sent.ok()) return sent;
    return Expect(std::string(1, command), descriptors);
  }

  absl::Status Expect(const std::string& data, size_t descriptors) {
    char reply[64];
    iovec iov = {reply, sizeof(reply)};
    absl::StatusOr<imc::ReceivedMessage> received =
        connection_->Receive({&iov, 1}, imc::kMaxDescriptors, Wait());
    if (!received.ok()) return received.status();
    if (std::string(reply, received->bytes) != data ||
        received->descriptors.size() != descriptors) {
      return absl::InternalError(absl::StrCat("reply to '", data, "' was '",
                                              std::string(reply, received->bytes), "' with ",
                                              received->descriptors.size(), " descriptors"));
    }
    return absl::OkStatus();
  }

  static imc::WaitOptions Wait() {
    imc::WaitOptions wait;
    wait.deadline = absl::Now() + absl::Seconds(10);
    return wait;
  }

  launcher::Module* module_;
  const Flags flags_;
  absl::optional<imc::ConnectedSocket> connection_;
  uint32_t state_ = 0x9e3779b9;
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  setvbuf(stdout, nullptr, _IOLBF, 0);
  launcher::LaunchOptions options;
  options.module_path = Runfile("tests/soak/soak_module.nexe");
  options.stdout_mode = launcher::Output::kDiscard;
  options.stderr_mode = launcher::Output::kForward;
  absl::StatusOr<launcher::Module> module = launcher::Module::Launch(std::move(options));
  if (!module.ok()) {
    fprintf(stderr, "soak: launch: %s\n", module.status().ToString().c_str());
    return 1;
  }
  printf("soak: sel_ldr pid %d, %lld operations\n", module->pid(),
         static_cast<long long>(flags.ops));
  int status = 0;
  {
    Driver driver(&*module, flags);
    status = driver.Run();
  }
  (void)module->Kill();
  printf("soak: %s\n", status == 0 ? "within bounds" : "FAILED");
  return status;
}
