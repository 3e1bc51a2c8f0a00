// sandbox_bench's density rows: N idle echo servers at once, each a module under its own
// sel_ldr (tools/modules:echo_server, started by the launcher API with -X) against N plain
// processes doing the same work with the imc library (native_echo_server). The rows:
//
//   density_pss_per_module  Pss (smaps_rollup) of sel_ldr plus its module, summed over the
//                           N and divided by N, vs the same of the N plain processes (KiB)
//   density_pss_total       the sum itself (MiB)
//   density_connect_echo    connect + a 64-byte echo + close to a randomly picked server,
//                           the median of 100 picks (ns/op)
//
// The three rows share one set of servers per side: the first of them to run starts it, the
// last one tears it down (or the end of the program, if a filter skips a row).
#ifndef TOOLS_BENCH_SANDBOX_BENCH_DENSITY_H_
#define TOOLS_BENCH_SANDBOX_BENCH_DENSITY_H_

#include <vector>

#include "tools/bench/workload.h"

namespace sandbox_bench {

// The default count of servers per side (issue 12's goal is stated for 1,000).
inline constexpr int kDefaultDensityModules = 1000;

// Returns the three density rows for `modules` servers per side. The processes start when a
// row first runs (with the calling process's CPU affinity), not here.
std::vector<bench::Comparison> MakeDensityComparisons(int modules);

}  // namespace sandbox_bench

#endif  // TOOLS_BENCH_SANDBOX_BENCH_DENSITY_H_
