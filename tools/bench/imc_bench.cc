// imc_bench: the host IMC library (imc/) against the legacy way of doing the same work with system
// calls (listening AF_UNIX sockets, raw SOCK_SEQPACKET socketpairs and SCM_RIGHTS), measured in the
// same run with the same CPU placement. See --help, and bench_runner.h for how figures are
// measured. The rows are in imc_bench_connect.h, imc_bench_messages.h and imc_bench_pending.h.
#include <utility>
#include <vector>

#include "tools/bench/bench_runner.h"
#include "tools/bench/imc_bench_connect.h"
#include "tools/bench/imc_bench_messages.h"
#include "tools/bench/imc_bench_pending.h"

namespace {

std::vector<bench::Comparison> MakeComparisons(const bench::Placement& placement) {
  std::vector<bench::Comparison> comparisons = imc_bench::ConnectComparisons(placement);
  for (auto make : {imc_bench::MessageComparisons, imc_bench::PendingComparisons}) {
    for (bench::Comparison& comparison : make(placement)) {
      comparisons.push_back(std::move(comparison));
    }
  }
  return comparisons;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::BenchMain(argc, argv,
                          {"imc_bench",
                           "Measures the host IMC library (imc/) against the legacy way of doing "
                           "the same work\n"
                           "with system calls (AF_UNIX sockets listening at abstract names, raw "
                           "SOCK_SEQPACKET\n"
                           "socketpairs with sendmsg/recvmsg and SCM_RIGHTS), in the same run. "
                           "Figures are\n"
                           "nanoseconds per operation, except pending_connections (a count)."},
                          MakeComparisons);
}
