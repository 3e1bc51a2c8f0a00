// What a benchmark measures: comparisons of our implementation of an operation (one Workload)
// against a baseline doing the same work directly (another), each run as one Google Benchmark
// by comparison_benchmark.h.
#ifndef TOOLS_BENCH_WORKLOAD_H_
#define TOOLS_BENCH_WORKLOAD_H_

#include <stdint.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bench {

// One side of a comparison.
class Workload {
 public:
  virtual ~Workload() = default;

  // Makes what Run() needs (sockets, a peer process). Called once, before the first Run().
  virtual absl::Status SetUp() { return absl::OkStatus(); }

  // Performs `iterations` operations; the runner times the whole call.
  virtual absl::Status Run(int64_t iterations) = 0;

  // Returns the figure of one repetition, in the comparison's unit. By default: the wall time
  // of Run(iterations) per operation, in ns. Both sides of a comparison of something other
  // than time (memory, say) override it, and the comparison names its `unit`.
  virtual absl::StatusOr<double> Measure(int64_t iterations);

  // Releases what SetUp() made and reaps any peer process, reporting the peer's failure.
  // Called once after SetUp() returned, whatever SetUp() and Run() returned.
  virtual absl::Status TearDown() { return absl::OkStatus(); }
};

// Our implementation of an operation against a baseline doing the same work directly.
struct Comparison {
  std::string name;         // The row name, e.g. "msg_rtt_64B": [A-Za-z0-9_]+.
  std::string description;  // One line for --help: what one operation is on each side.
  std::unique_ptr<Workload> ours;
  std::unique_ptr<Workload> baseline;
  // What a figure counts: Workload::Measure()'s unit.
  std::string unit = "ns/op";
  // Operations per repetition, whatever --iterations says (0: calibrated or --iterations).
  // For figures that are not times, which cannot be calibrated.
  int64_t iterations = 0;
};

}  // namespace bench

#endif  // TOOLS_BENCH_WORKLOAD_H_
