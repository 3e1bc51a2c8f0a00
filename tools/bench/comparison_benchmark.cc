#include "tools/bench/comparison_benchmark.h"

#include <time.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"

namespace bench {
namespace {

constexpr const char* kSideNames[2] = {"ours", "baseline"};

absl::Status WithContext(const absl::Status& status, absl::string_view what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(what, ": ", status.message()));
}

double NowSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Min(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::min_element(values.begin(), values.end());
}

double Max(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

}  // namespace

void ComparisonBenchmark::Register(int64_t iterations) {
  benchmark::internal::Benchmark* benchmark = benchmark::RegisterBenchmark(
      comparison_.name.c_str(), [this](benchmark::State& state) { Run(state); });
  benchmark->UseManualTime()->ComputeStatistics("min", Min)->ComputeStatistics("max", Max);
  if (comparison_.iterations > 0) iterations = comparison_.iterations;
  if (iterations > 0) benchmark->Iterations(iterations);
}

absl::Status ComparisonBenchmark::SetUp() {
  Workload* sides[2] = {comparison_.ours.get(), comparison_.baseline.get()};
  while (set_up_ < 2) {
    const int side = set_up_++;  // Torn down whatever SetUp() returns.
    RETURN_IF_ERROR(WithContext(sides[side]->SetUp(), absl::StrCat(kSideNames[side], " set-up")));
  }
  return absl::OkStatus();
}

absl::Status ComparisonBenchmark::MeasurePair(int64_t iterations, double figures[2],
                                              double* baseline_seconds) {
  Workload* sides[2] = {comparison_.ours.get(), comparison_.baseline.get()};
  for (int k = 0; k < 2; ++k) {
    const int side = (runs_ + k) % 2;  // Ours first in even runs.
    const double start = NowSeconds();
    absl::StatusOr<double> figure = sides[side]->Measure(iterations);
    if (side == 1) *baseline_seconds = NowSeconds() - start;
    RETURN_IF_ERROR(WithContext(figure.status(), kSideNames[side]));
    figures[side] = *figure;
  }
  return absl::OkStatus();
}

void ComparisonBenchmark::Run(benchmark::State& state) {
  const int64_t iterations = state.max_iterations;
  double figures[2] = {0, 0};
  double baseline_seconds = 0;
  if (status_.ok() && finished_) {
    status_ = absl::FailedPreconditionError("run again after its results were reported");
  }
  if (status_.ok() && !started_) {
    started_ = true;
    status_ = SetUp();
    if (status_.ok()) {
      status_ = WithContext(MeasurePair(iterations, figures, &baseline_seconds), "warm-up");
    }
  }
  while (status_.ok() && state.KeepRunningBatch(iterations)) {
    status_ = MeasurePair(iterations, figures, &baseline_seconds);
    if (!status_.ok()) break;
    state.SetIterationTime(baseline_seconds);
  }
  ++runs_;
  if (!status_.ok()) {
    state.SkipWithError(std::string(status_.message()).c_str());
    return;
  }
  iterations_ = iterations;
  state.counters[kOursCounter] = figures[0];
  state.counters[kBaselineCounter] = figures[1];
}

absl::Status ComparisonBenchmark::Finish() {
  if (!finished_) {
    finished_ = true;
    Workload* sides[2] = {comparison_.ours.get(), comparison_.baseline.get()};
    for (int side = 0; side < set_up_; ++side) {
      absl::Status torn_down =
          WithContext(sides[side]->TearDown(), absl::StrCat(kSideNames[side], " tear-down"));
      if (status_.ok()) status_ = torn_down;
    }
  }
  return WithContext(status_, comparison_.name);
}

}  // namespace bench
