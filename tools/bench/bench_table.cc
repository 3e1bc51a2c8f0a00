#include "tools/bench/bench_table.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace bench {
namespace {

// Machine-readable numbers: six significant digits keep nanoseconds and ratios exact enough.
std::string FormatNumber(double value) { return absl::StrFormat("%.6g", value); }

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += "\"";
  return out;
}

std::string JsonNumbers(const std::vector<double>& values) {
  return absl::StrCat(
      "[",
      absl::StrJoin(values, ", ", [](std::string* out, double v) { out->append(FormatNumber(v)); }),
      "]");
}

std::string FormatRatio(double ratio) { return absl::StrFormat("%.2fx", ratio); }

}  // namespace

SampleSummary Summarize(std::vector<double> samples) {
  SampleSummary summary;
  summary.samples = samples;
  if (samples.empty()) return summary;
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  summary.min = samples.front();
  summary.max = samples.back();
  summary.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  return summary;
}

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
    absl::StrAppend(&out, CsvField(row.name), ",", CsvField(row.unit), ",",
                    FormatNumber(row.ours.median), ",", FormatNumber(row.baseline.median), ",",
                    FormatNumber(row.Ratio()), ",", FormatNumber(row.ours.min), ",",
                    FormatNumber(row.ours.max), ",", FormatNumber(row.baseline.min), ",",
                    FormatNumber(row.baseline.max), ",", row.ours.samples.size(), ",",
                    row.iterations, "\n");
  }
  return out;
}

std::string BenchTable::FormatJson() const {
  std::string out =
      absl::StrCat("{\n  \"benchmark\": ", JsonString(benchmark_), ",\n  \"context\": {");
  for (size_t i = 0; i < context_.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "\n    " : ",\n    ", JsonString(context_[i].first), ": ",
                    JsonString(context_[i].second));
  }
  absl::StrAppend(&out, context_.empty() ? "},\n" : "\n  },\n", "  \"rows\": [");
  for (size_t i = 0; i < rows_.size(); ++i) {
    const BenchRow& row = rows_[i];
    const std::vector<std::string> fields = {
        absl::StrCat("\"name\": ", JsonString(row.name)),
        absl::StrCat("\"unit\": ", JsonString(row.unit)),
        absl::StrCat("\"ours\": ", FormatNumber(row.ours.median)),
        absl::StrCat("\"baseline\": ", FormatNumber(row.baseline.median)),
        absl::StrCat("\"ratio\": ", FormatNumber(row.Ratio())),
        absl::StrCat("\"ours_min\": ", FormatNumber(row.ours.min)),
        absl::StrCat("\"ours_max\": ", FormatNumber(row.ours.max)),
        absl::StrCat("\"baseline_min\": ", FormatNumber(row.baseline.min)),
        absl::StrCat("\"baseline_max\": ", FormatNumber(row.baseline.max)),
        absl::StrCat("\"repetitions\": ", row.ours.samples.size()),
        absl::StrCat("\"iterations\": ", row.iterations),
        absl::StrCat("\"ours_samples\": ", JsonNumbers(row.ours.samples)),
        absl::StrCat("\"baseline_samples\": ", JsonNumbers(row.baseline.samples)),
    };
    absl::StrAppend(&out, i == 0 ? "\n" : ",\n", "    {", absl::StrJoin(fields, ", "), "}");
  }
  absl::StrAppend(&out, rows_.empty() ? "]\n}\n" : "\n  ]\n}\n");
  return out;
}

}  // namespace bench
