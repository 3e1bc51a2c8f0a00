// What a benchmark binary shares with the others: flags, CPU placement, interleaved
// repetitions of "ours" and "baseline", medians, and the table in bench_table's formats.
//
// A benchmark defines its comparisons as pairs of Workloads and hands them to BenchMain():
//
//   int main(int argc, char** argv) {
//     return bench::BenchMain(argc, argv, {"imc_bench", "What it measures."}, MakeComparisons);
//   }
//
// Both sides of a comparison are set up once, then timed in alternation (ours first in even
// repetitions, the baseline first in odd ones) with one iteration count, so that a noisy
// phase of the machine hits both sides alike.
#ifndef TOOLS_BENCH_BENCH_RUNNER_H_
#define TOOLS_BENCH_BENCH_RUNNER_H_

#include <stdint.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/bench/bench_table.h"

namespace bench {

// Where the benchmark's processes run: the benchmark itself on `main_cpu`, a forked peer
// (the other end of a ping-pong) on `peer_cpu`. -1 means not pinned.
struct Placement {
  int main_cpu = -1;
  int peer_cpu = -1;
};

// Pins the calling process (thread) to `cpu`; does nothing for -1. Returns the
// sched_setaffinity error. Only makes system calls, so a forked child may call it.
absl::Status PinToCpu(int cpu);

// Returns the placement to use: `main_cpu` / `peer_cpu` when >= 0 (EINVAL unless the process
// may run there), by default the last CPU the process may run on for the benchmark and
// another one for the peer (the same one if there is no other).
absl::StatusOr<Placement> ChoosePlacement(int main_cpu, int peer_cpu);

// One side of a comparison.
class Workload {
 public:
  virtual ~Workload() = default;

  // Makes what Run() needs (sockets, a peer process). Called once, before the first Run().
  virtual absl::Status SetUp() { return absl::OkStatus(); }

  // Performs `iterations` operations; the runner times the whole call.
  virtual absl::Status Run(int64_t iterations) = 0;

  // Returns the figure of one repetition, in the comparison's unit. By default: the wall time
  // of Run(iterations) per operation, in ns. Both sides of a comparison of something other
  // than time (memory, say) override it, and the comparison names its `unit`.
  virtual absl::StatusOr<double> Measure(int64_t iterations);

  // Releases what SetUp() made and reaps any peer process, reporting the peer's failure.
  // Called once after SetUp() returned, whatever SetUp() and Run() returned.
  virtual absl::Status TearDown() { return absl::OkStatus(); }
};

// Our implementation of an operation against a baseline doing the same work directly.
struct Comparison {
  std::string name;         // The row name, e.g. "message_ping_pong_64B".
  std::string description;  // One line for --help: what one operation is on each side.
  std::unique_ptr<Workload> ours;
  std::unique_ptr<Workload> baseline;
  // What a figure counts: Workload::Measure()'s unit.
  std::string unit = "ns/op";
  // Operations per repetition, whatever --iterations says (0: calibrated or --iterations).
  // For figures that are not times, which cannot be calibrated.
  int64_t iterations = 0;
};

struct RunOptions {
  // Timed repetitions per side; the figures are their medians.
  int repetitions = 11;
  // The iteration count is chosen so that one baseline repetition lasts at least this long.
  absl::Duration min_batch = absl::Milliseconds(40);
  // A fixed iteration count instead (> 0).
  int64_t iterations = 0;
  // Print each repetition to stderr.
  bool verbose = false;
};

// Measures one comparison (in ns per operation unless its workloads measure otherwise): sets
// both sides up, calibrates the iteration count on the baseline (unless fixed), runs one
// unrecorded warm-up batch of ours, then the interleaved repetitions, and tears both sides
// down. Returns the first error of any step (a tear-down error included).
absl::StatusOr<BenchRow> RunComparison(Comparison& comparison, const RunOptions& options);

struct BenchmarkInfo {
  const char* name;         // The binary, e.g. "imc_bench".
  const char* description;  // A paragraph for --help.
};

// Makes a benchmark's comparisons for a placement. Constructing them must have no side
// effects: --help lists them without running any.
using ComparisonFactory = std::function<std::vector<Comparison>(const Placement&)>;

// The whole of a benchmark binary's main(): parses the flags (see --help), pins the process,
// runs the selected comparisons, prints the table to stdout (or JSON with --json) and writes
// --csv FILE. Returns the exit code: 0, 1 if a comparison failed, 2 for bad flags.
int BenchMain(int argc, char** argv, const BenchmarkInfo& info,
              const ComparisonFactory& make_comparisons);

}  // namespace bench

#endif  // TOOLS_BENCH_BENCH_RUNNER_H_
