#include "tools/bench/table_reporter.h"

#include <string>
#include <vector>

#include "tools/bench/comparison_benchmark.h"

namespace bench {
namespace {

double CounterOf(const benchmark::BenchmarkReporter::Run& run, const char* name) {
  auto counter = run.counters.find(name);
  return counter == run.counters.end() ? 0 : counter->second.value;
}

}  // namespace

bool TableReporter::ReportContext(const Context& context) { return shown_->ReportContext(context); }

void TableReporter::ReportRuns(const std::vector<Run>& runs) {
  shown_->ReportRuns(runs);
  for (const Run& run : runs) {
    const std::string& name = run.run_name.function_name;
    auto [entry, first] = collected_.try_emplace(name);
    if (first) runs_over_(name);
    Collected& collected = entry->second;
    if (run.error_occurred) continue;
    const double ours = CounterOf(run, kOursCounter);
    const double baseline = CounterOf(run, kBaselineCounter);
    if (run.run_type == Run::RT_Iteration) {
      collected.repetitions.push_back({{ours, ours, ours}, {baseline, baseline, baseline}, 1});
      continue;
    }
    if (!collected.aggregated.has_value()) collected.aggregated.emplace();
    RowFigures& figures = *collected.aggregated;
    figures.repetitions = run.repetitions;
    if (run.aggregate_name == "median") {
      figures.ours.median = ours;
      figures.baseline.median = baseline;
    } else if (run.aggregate_name == "min") {
      figures.ours.min = ours;
      figures.baseline.min = baseline;
    } else if (run.aggregate_name == "max") {
      figures.ours.max = ours;
      figures.baseline.max = baseline;
    }
  }
}

void TableReporter::Finalize() { shown_->Finalize(); }

std::optional<RowFigures> TableReporter::FiguresOf(const std::string& name) const {
  auto entry = collected_.find(name);
  if (entry == collected_.end()) return std::nullopt;
  if (entry->second.aggregated.has_value()) return entry->second.aggregated;
  // Google Benchmark aggregates two or more good repetitions only.
  if (entry->second.repetitions.size() == 1) return entry->second.repetitions.front();
  return std::nullopt;
}

}  // namespace bench
