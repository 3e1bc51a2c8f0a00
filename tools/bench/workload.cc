#include "tools/bench/workload.h"

#include <time.h>

#include "base/status_macros.h"

namespace bench {
namespace {

int64_t NowNanoseconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace

absl::StatusOr<double> Workload::Measure(int64_t iterations) {
  const int64_t start = NowNanoseconds();
  RETURN_IF_ERROR(Run(iterations));
  return static_cast<double>(NowNanoseconds() - start) / static_cast<double>(iterations);
}

}  // namespace bench
