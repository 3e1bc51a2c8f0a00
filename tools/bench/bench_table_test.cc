#include "tools/bench/bench_table.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

BenchRow MakeRow() {
  BenchRow row;
  row.name = "message_ping_pong_64B";
  row.unit = "ns/op";
  row.ours = Summarize({5300, 5100, 5200});
  row.baseline = Summarize({4000, 5000});
  row.iterations = 1000;
  return row;
}

// Test that the median of an odd count is the middle sample, whatever the order.
TEST(SummarizeTest, OddCountTakesTheMiddle) {
  SampleSummary s = Summarize({9, 1, 5, 7, 3});
  EXPECT_EQ(s.median, 5);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 9);
  EXPECT_THAT(s.samples, ElementsAre(9, 1, 5, 7, 3));
}

// Test that the median of an even count is the mean of the two middle samples.
TEST(SummarizeTest, EvenCountAveragesTheMiddleTwo) {
  EXPECT_EQ(Summarize({4, 1, 2, 100}).median, 3);
}

// Test that no samples summarize to zeros rather than reading out of bounds.
TEST(SummarizeTest, EmptyIsZero) {
  SampleSummary s = Summarize({});
  EXPECT_EQ(s.median, 0);
  EXPECT_EQ(s.min, 0);
  EXPECT_EQ(s.max, 0);
}

// Test that the ratio is ours over baseline, of the medians, and 0 for a zero baseline.
TEST(BenchRowTest, RatioOfMedians) {
  EXPECT_DOUBLE_EQ(MakeRow().Ratio(), 5200.0 / 4500.0);
  BenchRow zero;
  zero.ours = Summarize({1});
  EXPECT_EQ(zero.Ratio(), 0);
}

// Test that the text table has the project's header and prints the ratio like "1.16x".
TEST(BenchTableTest, TextHasHeaderAndRatio) {
  BenchTable table("imc_bench");
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
  BenchTable table("imc_bench");
  table.AddRow(MakeRow());
  EXPECT_EQ(table.FormatCsv(),
            "name,unit,ours,baseline,ratio,ours_min,ours_max,baseline_min,baseline_max,"
            "repetitions,iterations\n"
            "message_ping_pong_64B,ns/op,5200,4500,1.15556,5100,5300,4000,5000,3,1000\n");
}

// Test that JSON carries the benchmark, context, the row's fields and every sample.
TEST(BenchTableTest, JsonFields) {
  BenchTable table("imc_bench");
  table.AddContext("note", "say \"hi\"");
  table.AddRow(MakeRow());
  std::string json = table.FormatJson();
  EXPECT_THAT(json, HasSubstr("\"benchmark\": \"imc_bench\""));
  EXPECT_THAT(json, HasSubstr("\"note\": \"say \\\"hi\\\"\""));
  EXPECT_THAT(json, HasSubstr("\"name\": \"message_ping_pong_64B\", \"unit\": \"ns/op\", "
                              "\"ours\": 5200, \"baseline\": 4500, \"ratio\": 1.15556"));
  EXPECT_THAT(json, HasSubstr("\"ours_samples\": [5300, 5100, 5200]"));
  EXPECT_THAT(json, HasSubstr("\"baseline_samples\": [4000, 5000]"));
}

}  // namespace
}  // namespace bench
