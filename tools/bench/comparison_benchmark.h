// One Comparison run as one Google Benchmark, named after the row, whose every run (Google
// Benchmark's calibration runs and each repetition) times both sides back to back with the
// same iteration count and reports their figures as the counters "ours" and "baseline".
//
// Why one benchmark per row rather than a pair `<row>/ours`, `<row>/baseline`: Google
// Benchmark runs every repetition of one benchmark before the next, so a pair would measure
// ours in one stretch of time and the baseline in a later one, and a noisy phase of the
// machine (the 2 CPUs here are shared) would hit one side only.
// --benchmark_enable_random_interleaving would mix them, but it interleaves all rows, so
// every row would hold its set-up (100,000 queued connections, ten idle sel_ldr processes)
// for the whole run, and the two sides would get separately calibrated iteration counts.
// Alternating inside one run keeps ours and the baseline seconds apart at most, with one
// iteration count (calibrated on the baseline, as --benchmark_min_time says), and lets each
// row set up when its first run starts and tear down as soon as its results are reported.
#ifndef TOOLS_BENCH_COMPARISON_BENCHMARK_H_
#define TOOLS_BENCH_COMPARISON_BENCHMARK_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"
#include "tools/bench/workload.h"

namespace bench {

// The names of the counters that carry each side's figure, in the comparison's unit.
inline constexpr char kOursCounter[] = "ours";
inline constexpr char kBaselineCounter[] = "baseline";

class ComparisonBenchmark {
 public:
  explicit ComparisonBenchmark(Comparison comparison) : comparison_(std::move(comparison)) {}
  ComparisonBenchmark(const ComparisonBenchmark&) = delete;
  ComparisonBenchmark& operator=(const ComparisonBenchmark&) = delete;
  ~ComparisonBenchmark() { (void)Finish(); }

  const Comparison& comparison() const { return comparison_; }

  // Registers the benchmark with Google Benchmark (manual time: the baseline's, which the
  // iteration count is calibrated on; "min" and "max" statistics besides the default ones).
  // `iterations` > 0 fixes the count, unless the comparison fixes its own.
  void Register(int64_t iterations);

  // One run of `state.max_iterations` operations per side: sets both sides up and runs one
  // unrecorded warm-up pair on the first run, then measures ours and the baseline, ours
  // first in even runs and the baseline first in odd ones. After an error every later run
  // is skipped with it.
  void Run(benchmark::State& state);

  // Tears down what was set up, once; returns the first error of the row (set-up, a run,
  // tear-down), prefixed with the row's name.
  absl::Status Finish();

  // Whether Google Benchmark ran it (it was selected).
  bool started() const { return started_; }

  // Operations per side in the last run: the count of every repetition.
  int64_t iterations() const { return iterations_; }

 private:
  absl::Status SetUp();
  // Measures both sides with `iterations` operations into `figures` (ours, baseline) and the
  // baseline's wall time into `baseline_seconds`.
  absl::Status MeasurePair(int64_t iterations, double figures[2], double* baseline_seconds);

  Comparison comparison_;
  bool started_ = false;
  bool finished_ = false;
  int set_up_ = 0;  // Sides whose SetUp() returned (ours first), to tear down.
  absl::Status status_;
  int64_t runs_ = 0;
  int64_t iterations_ = 0;
};

}  // namespace bench

#endif  // TOOLS_BENCH_COMPARISON_BENCHMARK_H_
