#include "tools/bench/bench_table.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bench {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

BenchRow MakeRow() {
  BenchRow row;
  row.name = "message_ping_pong_64B";
  row.unit = "ns/op";
  row.ours = {5200, 5100, 5300};
  row.baseline = {4500, 4000, 5000};
  row.repetitions = 3;
  row.iterations = 1000;
  return row;
}

// Test that the ratio is ours over baseline, of the medians, and 0 for a zero baseline.
TEST(BenchRowTest, RatioOfMedians) {
  EXPECT_DOUBLE_EQ(MakeRow().Ratio(), 5200.0 / 4500.0);
  BenchRow zero;
  zero.ours.median = 1;
  EXPECT_EQ(zero.Ratio(), 0);
}

// Test that the text table has the project's header and prints the ratio like "1.16x".
TEST(BenchTableTest, TextHasHeaderAndRatio) {
  BenchTable table;
  table.AddContext("placement", "cpu 1");
  table.AddRow(MakeRow());
  std::string text = table.FormatText();
  EXPECT_THAT(text, StartsWith("# placement: cpu 1\n"));
  EXPECT_THAT(text, HasSubstr("NAME                   OURS  BASELINE  RATIO  UNIT\n"));
  EXPECT_THAT(text, HasSubstr("message_ping_pong_64B  5200      4500  1.16x  ns/op\n"));
}

// Test that figures keep about three significant digits.
TEST(BenchTableTest, FiguresScaleTheirDecimals) {
  EXPECT_EQ(FormatFigure(12345.6), "12346");
  EXPECT_EQ(FormatFigure(42.25), "42.2");
  EXPECT_EQ(FormatFigure(1.5), "1.50");
}

// Test that CSV has one header line and one line per row with medians and ranges.
TEST(BenchTableTest, CsvRows) {
  BenchTable table;
  table.AddRow(MakeRow());
  EXPECT_EQ(table.FormatCsv(),
            "name,unit,ours,baseline,ratio,ours_min,ours_max,baseline_min,baseline_max,"
            "repetitions,iterations\n"
            "message_ping_pong_64B,ns/op,5200,4500,1.15556,5100,5300,4000,5000,3,1000\n");
}

}  // namespace
}  // namespace bench
