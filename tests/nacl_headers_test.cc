// End-to-end: a NaCl-era module (tests/modules/nacl_headers.c) that includes the SDK's headers
// by Native Client's paths and does not define _GNU_SOURCE, built with the nacl_module macro
// and run by sel_ldr. Its compile-time checks hold the NACL_ABI_* values equal to libc's;
// at run time it reports one "CASE <name> expected=<E> actual=<A>" line per call it makes.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/wire_format.h"
#include "nacl/imc_types.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

// The SDK's NACL_ABI_IMC_BYTES_MAX is the most bytes an IMC message takes on the wire.
static_assert(NACL_ABI_IMC_BYTES_MAX == imc::kMaxUserBytes + sizeof(imc::WireHeader),
              "NACL_ABI_IMC_BYTES_MAX is the user bytes and the wire header");

// The cases the module reports, each of which must have come out as it expected.
const char* const kCases[] = {
    "environ",
    "recursive_mutex_locked_twice",
    "imc_socketpair",
    "imc_sendmsg",
    "imc_recvmsg",
    "imc_recvmsg_data",
    "nacl_fstat",
    "fstat_is_data_only_socket",
    "fstat_owner_rw",
    "imc_makeboundsock",
    "sendmsg_on_bound_socket",
    "mem_obj_create_0",
    "mem_obj_create_4096",
    "mmap_shared_memory",
};

// Test that the NaCl-era module built (environ and PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP
// without _GNU_SOURCE in its source; every header at NaCl's path), ran to its end under
// sel_ldr, and that every call it made through those headers answered as NaCl would.
TEST(NaclHeadersTest, NaclEraModuleBuildsAndRuns) {
  absl::StatusOr<SelLdrResult> run =
      RunSelLdr({{"-E", "NACL_HEADERS=yes"}, ModulePath("nacl_headers"), {}});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->exited) << run->Describe();
  EXPECT_EQ(run->exit_status, 0) << run->Describe();
  EXPECT_TRUE(absl::EndsWith(run->out, "DONE\n")) << run->Describe();
  EXPECT_EQ(run->err, "");

  std::map<std::string, std::pair<std::string, std::string>> reports;
  for (CaseReport& report : CaseReports(run->out)) {
    reports[report.name] = {std::move(report.expected), std::move(report.actual)};
  }
  std::vector<std::string> reported;
  for (const auto& [name, report] : reports) {
    reported.push_back(name);
    EXPECT_EQ(report.second, report.first) << name;
  }
  EXPECT_THAT(reported, ::testing::UnorderedElementsAreArray(kCases));
}

}  // namespace
}  // namespace tests
