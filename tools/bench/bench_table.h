// The summary every benchmark prints: one row per comparison of our figure against a
// baseline measured in the same run, and the ratio ours / baseline. Figures are medians over
// repetitions because the machines here are noisy; the range travels along in the CSV for
// whoever wants to judge the noise.
#ifndef TOOLS_BENCH_BENCH_TABLE_H_
#define TOOLS_BENCH_BENCH_TABLE_H_

#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

namespace bench {

// One side's median and range over the repetitions.
struct SampleSummary {
  double median = 0;
  double min = 0;
  double max = 0;
};

struct BenchRow {
  std::string name;  // What is compared, e.g. "msg_rtt_64B".
  std::string unit;  // What one figure counts, e.g. "ns/op".
  SampleSummary ours;
  SampleSummary baseline;
  int64_t repetitions = 0;
  int64_t iterations = 0;  // Operations per repetition.

  // Returns ours.median / baseline.median, or 0 if the baseline median is 0.
  double Ratio() const;
};

class BenchTable {
 public:
  // Appends a row; rows print in the order they were added.
  void AddRow(BenchRow row) { rows_.push_back(std::move(row)); }

  // Records how the rows were measured (repetitions, CPU placement, ...): printed as
  // "# key: value" lines above the text table.
  void AddContext(std::string key, std::string value);

  const std::vector<BenchRow>& rows() const { return rows_; }

  // Returns the human-readable table: context lines, then the header
  // "NAME OURS BASELINE RATIO UNIT" and one aligned row each, ratios printed like "1.07x".
  std::string FormatText() const;

  // Returns CSV with a header line: name, unit, ours, baseline, ratio (medians), the ranges,
  // the repetition and iteration counts. Names and units hold no comma or quote.
  std::string FormatCsv() const;

 private:
  std::vector<std::pair<std::string, std::string>> context_;
  std::vector<BenchRow> rows_;
};

// Returns `value` as a table figure: no decimals from 100 up, one from 10, else two.
std::string FormatFigure(double value);

}  // namespace bench

#endif  // TOOLS_BENCH_BENCH_TABLE_H_
