// The step from Google Benchmark's results to our table: a reporter that passes every report
// on to the one shown (console or JSON, as --benchmark_format says) and keeps, for each
// benchmark, the median, min and max over its repetitions of the counters "ours" and
// "baseline" (comparison_benchmark.h), as Google Benchmark aggregated them.
#ifndef TOOLS_BENCH_TABLE_REPORTER_H_
#define TOOLS_BENCH_TABLE_REPORTER_H_

#include <stdint.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "tools/bench/bench_table.h"

namespace bench {

// One benchmark's figures: each side's median, min and max, and the repetition count.
struct RowFigures {
  SampleSummary ours;
  SampleSummary baseline;
  int64_t repetitions = 0;
};

class TableReporter : public benchmark::BenchmarkReporter {
 public:
  // Called with a benchmark's name (its function name, the row) the first time its reports
  // arrive, i.e. once all its runs are over and before the next benchmark starts.
  using RunsOver = std::function<void(const std::string& name)>;

  // `shown` (not owned) prints the reports; it must outlive this reporter.
  TableReporter(benchmark::BenchmarkReporter* shown, RunsOver runs_over)
      : shown_(shown), runs_over_(std::move(runs_over)) {}

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  // Returns the figures of benchmark `name`: its median, min and max aggregates, or the
  // figures of its only repetition. Nothing if it ran no repetition without an error.
  std::optional<RowFigures> FiguresOf(const std::string& name) const;

 private:
  struct Collected {
    std::optional<RowFigures> aggregated;
    std::vector<RowFigures> repetitions;  // One per repetition without an error.
  };

  benchmark::BenchmarkReporter* shown_;
  RunsOver runs_over_;
  std::map<std::string, Collected> collected_;
};

}  // namespace bench

#endif  // TOOLS_BENCH_TABLE_REPORTER_H_
