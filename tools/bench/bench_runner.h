// What a benchmark binary shares with the others: flags, CPU placement, and the run of its
// comparisons on Google Benchmark with our table printed after.
//
// A benchmark defines its comparisons as pairs of Workloads (workload.h) and hands them to
// BenchMain():
//
//   int main(int argc, char** argv) {
//     return bench::BenchMain(argc, argv, {"imc_bench", "What it measures."}, MakeComparisons);
//   }
//
// Each comparison is one Google Benchmark whose runs time both sides in alternation with one
// iteration count (comparison_benchmark.h says why); Google Benchmark calibrates, repeats
// and aggregates, and the table takes the medians from its aggregates (table_reporter.h).
#ifndef TOOLS_BENCH_BENCH_RUNNER_H_
#define TOOLS_BENCH_BENCH_RUNNER_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/bench/workload.h"

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

struct BenchmarkInfo {
  const char* name;         // The binary, e.g. "imc_bench".
  const char* description;  // A paragraph for --help.
};

// Makes a benchmark's comparisons for a placement. Constructing them must have no side
// effects: --help lists them without running any.
using ComparisonFactory = std::function<std::vector<Comparison>(const Placement&)>;

// The whole of a benchmark binary's main(): parses the flags (see --help; --benchmark_* flags
// go to Google Benchmark), pins the process, runs the selected comparisons, shows Google
// Benchmark's report on stderr (or its JSON on stdout with --json), prints the table to
// stdout (stderr with --json) and writes --csv FILE. Returns the exit code: 0, 1 if a
// comparison failed, 2 for bad flags.
int BenchMain(int argc, char** argv, const BenchmarkInfo& info,
              const ComparisonFactory& make_comparisons);

}  // namespace bench

#endif  // TOOLS_BENCH_BENCH_RUNNER_H_
