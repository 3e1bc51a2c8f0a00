#include "tools/bench/comparison_benchmark.h"

#include <stdint.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/bench/table_reporter.h"
#include "tools/bench/workload.h"

namespace bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A side that logs what it is asked to do and returns the figures it was given, in turn.
class LoggedWorkload : public Workload {
 public:
  LoggedWorkload(std::string name, std::vector<std::string>* log, std::deque<double> figures,
                 absl::Status set_up = absl::OkStatus())
      : name_(std::move(name)), log_(log), figures_(std::move(figures)), set_up_(set_up) {}

  absl::Status SetUp() override {
    log_->push_back(absl::StrCat(name_, " set-up"));
    return set_up_;
  }
  absl::Status Run(int64_t) override { return absl::OkStatus(); }
  absl::StatusOr<double> Measure(int64_t iterations) override {
    log_->push_back(absl::StrCat(name_, " ", iterations));
    if (figures_.empty()) return absl::InternalError("no figure left");
    double figure = figures_.front();
    figures_.pop_front();
    return figure;
  }
  absl::Status TearDown() override {
    log_->push_back(absl::StrCat(name_, " tear-down"));
    return absl::OkStatus();
  }

 private:
  std::string name_;
  std::vector<std::string>* log_;
  std::deque<double> figures_;
  absl::Status set_up_;
};

// Shows nothing.
class SilentReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

// Runs the registered benchmarks with `repetitions`, tearing each down once reported, as
// bench_runner does.
std::unique_ptr<TableReporter> RunAll(int repetitions,
                                      std::vector<std::unique_ptr<ComparisonBenchmark>>& rows) {
  std::string flag = absl::StrCat("--benchmark_repetitions=", repetitions);
  char name[] = "comparison_benchmark_test";
  char* argv[] = {name, flag.data(), nullptr};
  int argc = 2;
  benchmark::Initialize(&argc, argv);
  static SilentReporter silent;
  auto reporter = std::make_unique<TableReporter>(&silent, [&rows](const std::string& name) {
    for (auto& row : rows) {
      if (row->comparison().name == name) (void)row->Finish();
    }
  });
  benchmark::RunSpecifiedBenchmarks(reporter.get());
  return reporter;
}

Comparison Logged(std::string name, std::vector<std::string>* log, std::deque<double> ours,
                  std::deque<double> baseline, absl::Status ours_set_up = absl::OkStatus()) {
  Comparison comparison;
  comparison.name = name;
  comparison.ours = std::make_unique<LoggedWorkload>(name + " ours", log, ours, ours_set_up);
  comparison.baseline = std::make_unique<LoggedWorkload>(name + " baseline", log, baseline);
  return comparison;
}

// Test that both sides run in every repetition with one iteration count, ours first in even
// runs and the baseline first in odd ones, after set-up and a warm-up pair; that the table
// gets Google Benchmark's median, min and max of each side; and that a row is torn down
// before the next one is set up.
TEST(ComparisonBenchmarkTest, AlternatesSidesAndReportsMedians) {
  benchmark::ClearRegisteredBenchmarks();
  std::vector<std::string> log;
  std::vector<std::unique_ptr<ComparisonBenchmark>> rows;
  rows.push_back(std::make_unique<ComparisonBenchmark>(
      Logged("first", &log, {99, 30, 10, 20}, {99, 4, 6, 5})));
  rows.push_back(std::make_unique<ComparisonBenchmark>(Logged("second", &log, {1, 2}, {1, 4})));
  for (auto& row : rows) row->Register(7);
  std::unique_ptr<TableReporter> reporter = RunAll(3, rows);

  EXPECT_THAT(
      log, ElementsAre("first ours set-up", "first baseline set-up",  // Set-up.
                       "first ours 7", "first baseline 7",            // Warm-up.
                       "first ours 7", "first baseline 7",            // Repetition 0.
                       "first baseline 7", "first ours 7",            // Repetition 1.
                       "first ours 7", "first baseline 7",            // Repetition 2.
                       "first ours tear-down", "first baseline tear-down", "second ours set-up",
                       "second baseline set-up", "second ours 7", "second baseline 7",
                       "second ours 7", "second baseline 7",
                       // No figures left: the row stops with its error.
                       "second baseline 7", "second ours tear-down", "second baseline tear-down"));
  std::optional<RowFigures> first = reporter->FiguresOf("first");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->ours.median, 20);
  EXPECT_EQ(first->ours.min, 10);
  EXPECT_EQ(first->ours.max, 30);
  EXPECT_EQ(first->baseline.median, 5);
  EXPECT_EQ(first->baseline.min, 4);
  EXPECT_EQ(first->baseline.max, 6);
  EXPECT_EQ(first->repetitions, 3);
  EXPECT_EQ(rows[0]->iterations(), 7);
  EXPECT_TRUE(rows[0]->Finish().ok());
  EXPECT_THAT(rows[1]->Finish().ToString(), HasSubstr("second: baseline: no figure left"));
}

// Test that a failed set-up fails the row with its name, skips its runs, still tears the
// failed side down, and leaves no figures.
TEST(ComparisonBenchmarkTest, FailedSetUpFailsTheRow) {
  benchmark::ClearRegisteredBenchmarks();
  std::vector<std::string> log;
  std::vector<std::unique_ptr<ComparisonBenchmark>> rows;
  rows.push_back(std::make_unique<ComparisonBenchmark>(
      Logged("broken", &log, {1, 1}, {1, 1}, absl::UnavailableError("no peer"))));
  rows[0]->Register(3);
  std::unique_ptr<TableReporter> reporter = RunAll(2, rows);

  EXPECT_THAT(log, ElementsAre("broken ours set-up", "broken ours tear-down"));
  EXPECT_FALSE(reporter->FiguresOf("broken").has_value());
  absl::Status status = rows[0]->Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("broken: ours set-up: no peer"));
}

// Test that a single repetition (no aggregates from Google Benchmark) gives its own figures.
TEST(ComparisonBenchmarkTest, OneRepetitionIsItsOwnMedian) {
  benchmark::ClearRegisteredBenchmarks();
  std::vector<std::string> log;
  std::vector<std::unique_ptr<ComparisonBenchmark>> rows;
  rows.push_back(std::make_unique<ComparisonBenchmark>(Logged("once", &log, {9, 8}, {9, 2})));
  rows[0]->Register(1);
  std::unique_ptr<TableReporter> reporter = RunAll(1, rows);

  std::optional<RowFigures> once = reporter->FiguresOf("once");
  ASSERT_TRUE(once.has_value());
  EXPECT_EQ(once->ours.median, 8);
  EXPECT_EQ(once->baseline.median, 2);
  EXPECT_EQ(once->baseline.max, 2);
  EXPECT_EQ(once->repetitions, 1);
}

}  // namespace
}  // namespace bench
