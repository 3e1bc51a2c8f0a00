#include "tools/bench/bench_table.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace bench {
namespace {

// Machine-readable numbers: six significant digits keep nanoseconds and ratios exact enough.
std::string FormatNumber(double value) { return absl::StrFormat("%.6g", value); }

std::string FormatRatio(double ratio) { return absl::StrFormat("%.2fx", ratio); }

}  // namespace

double BenchRow::Ratio() const { return baseline.median == 0 ? 0 : ours.median / baseline.median; }

void BenchTable::AddContext(std::string key, std::string value) {
  context_.emplace_back(std::move(key), std::move(value));
}

std::string FormatFigure(double value) {
  if (value >= 100) return absl::StrFormat("%.0f", value);
  if (value >= 10) return absl::StrFormat("%.1f", value);
  return absl::StrFormat("%.2f", value);
}

std::string BenchTable::FormatText() const {
  std::vector<std::vector<std::string>> cells = {{"NAME", "OURS", "BASELINE", "RATIO", "UNIT"}};
  for (const BenchRow& row : rows_) {
    cells.push_back({row.name, FormatFigure(row.ours.median), FormatFigure(row.baseline.median),
                     FormatRatio(row.Ratio()), row.unit});
  }
  size_t widths[5] = {0, 0, 0, 0, 0};
  for (const auto& line : cells) {
    for (size_t i = 0; i < 5; ++i) widths[i] = std::max(widths[i], line[i].size());
  }
  std::string out;
  for (const auto& [key, value] : context_) absl::StrAppend(&out, "# ", key, ": ", value, "\n");
  for (const auto& line : cells) {
    // The name and unit are left-aligned, the figures right-aligned.
    std::string text = absl::StrFormat("%-*s  %*s  %*s  %*s  %s", widths[0], line[0], widths[1],
                                       line[1], widths[2], line[2], widths[3], line[3], line[4]);
    absl::StrAppend(&out, text, "\n");
  }
  return out;
}

std::string BenchTable::FormatCsv() const {
  std::string out =
      "name,unit,ours,baseline,ratio,ours_min,ours_max,baseline_min,baseline_max,"
      "repetitions,iterations\n";
  for (const BenchRow& row : rows_) {
    absl::StrAppend(&out, row.name, ",", row.unit, ",", FormatNumber(row.ours.median), ",",
                    FormatNumber(row.baseline.median), ",", FormatNumber(row.Ratio()), ",",
                    FormatNumber(row.ours.min), ",", FormatNumber(row.ours.max), ",",
                    FormatNumber(row.baseline.min), ",", FormatNumber(row.baseline.max), ",",
                    row.repetitions, ",", row.iterations, "\n");
  }
  return out;
}

}  // namespace bench
