// imc_bench's connection rows: SocketAddress::Connect and BoundSocket::Accept against
// connect() and accept4() on a SOCK_SEQPACKET socket listening at an abstract name, in one
// process and with the acceptor in another.
#ifndef TOOLS_BENCH_IMC_BENCH_CONNECT_H_
#define TOOLS_BENCH_IMC_BENCH_CONNECT_H_

#include <vector>

#include "tools/bench/bench_runner.h"

namespace imc_bench {

// Returns connect_accept, connect_accept_send_after, connect_accept_confirmed and
// connect_accept_2proc, the acceptor processes on `placement.peer_cpu`.
std::vector<bench::Comparison> ConnectComparisons(const bench::Placement& placement);

}  // namespace imc_bench

#endif  // TOOLS_BENCH_IMC_BENCH_CONNECT_H_
