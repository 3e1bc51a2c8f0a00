// imc_bench's message rows: round trips with a forked echo process, of 64 bytes, 64 KiB, and
// 64 bytes carrying descriptors, through ConnectedSocket against raw sendmsg/recvmsg.
#ifndef TOOLS_BENCH_IMC_BENCH_MESSAGES_H_
#define TOOLS_BENCH_IMC_BENCH_MESSAGES_H_

#include <vector>

#include "tools/bench/bench_runner.h"

namespace imc_bench {

// Returns msg_rtt_64B, msg_rtt_64KiB, msg_1desc_rtt, msg_8desc_rtt and msg_8addr_rtt, the
// echo processes on `placement.peer_cpu`.
std::vector<bench::Comparison> MessageComparisons(const bench::Placement& placement);

}  // namespace imc_bench

#endif  // TOOLS_BENCH_IMC_BENCH_MESSAGES_H_
