// imc_bench's pending_connections row: how many connection requests one bound socket holds,
// none accepted, against the listen backlog of a plain listening socket.
#ifndef TOOLS_BENCH_IMC_BENCH_PENDING_H_
#define TOOLS_BENCH_IMC_BENCH_PENDING_H_

#include <vector>

#include "tools/bench/bench_runner.h"

namespace imc_bench {

// Returns pending_connections, a count in "connections" measured once per side and run.
std::vector<bench::Comparison> PendingComparisons(const bench::Placement& placement);

}  // namespace imc_bench

#endif  // TOOLS_BENCH_IMC_BENCH_PENDING_H_
