// End-to-end: bad arguments from a module (tests/modules/bad_args.c): wild pointers
// (null, kernel, non-canonical, wrapping, straddling into an unmapped page), lengths near
// 2^64, and a message whose header and iovecs another thread rewrites while it is sent.
// Every call must come back with an errno; the supervisor must never crash.
#include <fcntl.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct ArgumentCase {
  const char* name;      // As the module prints it.
  const char* expected;  // Errno name, or "ok" where the arguments are valid after all.
};

const ArgumentCase kCases[] = {
    {"sendmsg_header_null", "EFAULT"},
    {"sendmsg_header_kernel", "EFAULT"},
    {"sendmsg_header_non_canonical", "EFAULT"},
    {"sendmsg_header_wraps", "EFAULT"},
    {"sendmsg_header_straddles_page", "EFAULT"},
    {"sendmsg_iov_kernel", "EFAULT"},
    {"sendmsg_iov_length_max", "EINVAL"},
    {"sendmsg_iov_length_2_63", "EINVAL"},
    {"sendmsg_buffer_length_max", "EIO"},
    {"sendmsg_buffer_lengths_overflow", "EIO"},
    {"sendmsg_buffer_kernel", "EFAULT"},
    {"sendmsg_buffer_wraps", "EFAULT"},
    {"sendmsg_buffer_straddles_page", "EFAULT"},
    {"sendmsg_null_empty_buffer", "ok"},
    {"sendmsg_descv_kernel", "EFAULT"},
    {"sendmsg_desc_length_max", "EINVAL"},
    {"recvmsg_header_null", "EFAULT"},
    {"recvmsg_header_kernel", "EFAULT"},
    {"recvmsg_header_wraps", "EFAULT"},
    {"recvmsg_iov_length_max", "EINVAL"},
    {"recvmsg_desc_length_max", "EINVAL"},
    {"recvmsg_iov_kernel", "EFAULT"},
    {"recvmsg_descv_kernel", "EFAULT"},
    {"recvmsg_buffer_length_max", "ok"},
    {"recvmsg_buffer_kernel", "EFAULT"},
    {"nacl_write_kernel", "EFAULT"},
    {"nacl_write_length_max", "EFAULT"},
    {"write_length_2_63", "EFAULT"},
    {"write_wraps", "EFAULT"},
    {"nacl_read_kernel", "EFAULT"},
    {"nacl_read_length_max", "EFAULT"},
    {"read_length_max", "EFAULT"},
    {"readv_iov_kernel", "EFAULT"},
    {"readv_count_max", "EINVAL"},
    {"writev_count_2_32_plus_1", "EINVAL"},
    {"writev_length_max", "EINVAL"},
    {"writev_lengths_2_63", "EINVAL"},
    {"writev_buffer_kernel", "EFAULT"},
    {"readv_buffer_kernel", "EFAULT"},
    {"writev_valid", "ok"},
    {"fstat_kernel", "EFAULT"},
    {"nacl_fstat_kernel", "EFAULT"},
    {"newfstatat_path_kernel", "EFAULT"},
    {"makeboundsock_kernel", "EFAULT"},
    {"socketpair_kernel", "EFAULT"},
    {"nacl_close_2_32_plus_1000", "EBADF"},
    {"mmap_length_near_2_64", "EINVAL"},
    {"mmap_offset_near_2_63", "EINVAL"},
    {"mem_obj_create_2_64_minus_65536", "ENOMEM"},
    // Racing: every outcome was success, EFAULT, EINVAL, EIO or EAGAIN.
    {"race_outcomes", "all_allowed"},
};

// Runs the module once for the whole suite, with /dev/null as its descriptor 5.
class BadArgsTest : public ::testing::TestWithParam<ArgumentCase> {
 protected:
  static void SetUpTestSuite() {
    base::UniqueFd dev_null(open("/dev/null", O_WRONLY | O_CLOEXEC));
    run_ = new absl::StatusOr<SelLdrResult>(
        RunSelLdr({{"-w", "5:10"}, ModulePath("bad_args"), {}, {{10, dev_null.get()}}}));
    reports_ = new std::map<std::string, std::string>();
    if (!run_->ok()) return;
    for (CaseReport& report : CaseReports((*run_)->out)) {
      (*reports_)[report.name] = std::move(report.actual);
    }
  }

  static void TearDownTestSuite() {
    delete run_;
    delete reports_;
  }

  static absl::StatusOr<SelLdrResult>* run_;
  static std::map<std::string, std::string>* reports_;
};

absl::StatusOr<SelLdrResult>* BadArgsTest::run_ = nullptr;
std::map<std::string, std::string>* BadArgsTest::reports_ = nullptr;

// Test that sel_ldr survived everything: it exits with the module's own status (0, after
// the last case), with no message of its own, and the module ran every case.
TEST_F(BadArgsTest, SupervisorSurvivesAndModuleFinishes) {
  ASSERT_TRUE(run_->ok()) << run_->status();
  const SelLdrResult& result = **run_;
  EXPECT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_TRUE(absl::EndsWith(result.out, "DONE\n")) << result.Describe();
  EXPECT_THAT(result.err, Not(HasSubstr("supervisor failed")));
  EXPECT_EQ(result.err, "");
  std::vector<std::string> known;
  for (const ArgumentCase& c : kCases) known.push_back(c.name);
  std::vector<std::string> reported;
  for (const auto& [name, actual] : *reports_) reported.push_back(name);
  EXPECT_THAT(reported, ::testing::UnorderedElementsAreArray(known));
}

// Test that the call came back with the expected errno.
TEST_P(BadArgsTest, FailsWithAnErrno) {
  ASSERT_TRUE(run_->ok()) << run_->status();
  const ArgumentCase& c = GetParam();
  auto it = reports_->find(c.name);
  ASSERT_NE(it, reports_->end()) << "the module did not report " << c.name << ": "
                                 << (*run_)->Describe();
  EXPECT_EQ(it->second, c.expected);
}

INSTANTIATE_TEST_SUITE_P(WildArguments, BadArgsTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ArgumentCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace tests
