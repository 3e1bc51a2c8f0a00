// End-to-end: every row of ABI.md's error table, from inside a sandboxed module. The
// abi_errors module runs each case once and prints "CASE <name> expected=<E> actual=<A>";
// this test holds the expectations (from ABI.md) and asserts one test per case.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

struct ErrorCase {
  const char* name;      // As the module prints it.
  const char* expected;  // Errno name, "ok", or the case's own summary.
};

// ABI.md "Error behaviour the NaCl-compatible path must reproduce", row by row.
const ErrorCase kCases[] = {
    // Any call on a number that is not open: EBADF.
    {"accept_unopened", "EBADF"},
    {"accept_negative", "EBADF"},
    {"connect_unopened", "EBADF"},
    {"sendmsg_unopened", "EBADF"},
    {"recvmsg_unopened", "EBADF"},
    {"read_unopened", "EBADF"},
    {"write_unopened", "EBADF"},
    {"fstat_unopened", "EBADF"},
    {"dup_unopened", "EBADF"},
    {"dup2_unopened", "EBADF"},
    {"close_unopened", "EBADF"},
    {"libc_read_unopened", "EBADF"},
    {"libc_write_unopened", "EBADF"},
    {"libc_fstat_unopened", "EBADF"},
    {"libc_close_unopened", "EBADF"},
    {"mmap_unopened", "EBADF"},
    // Accept on a non-BoundSocket, connect on a non-SocketAddress, read/write on an IMC
    // socket: EINVAL.
    {"accept_on_socket_address", "EINVAL"},
    {"accept_on_connected_socket", "EINVAL"},
    {"accept_on_host_io", "EINVAL"},
    {"connect_on_bound_socket", "EINVAL"},
    {"connect_on_connected_socket", "EINVAL"},
    {"read_on_connected_socket", "EINVAL"},
    {"write_on_connected_socket", "EINVAL"},
    {"libc_read_on_connected_socket", "EINVAL"},
    {"libc_write_on_connected_socket", "EINVAL"},
    {"read_on_data_only_socket", "EINVAL"},
    {"write_on_data_only_socket", "EINVAL"},
    {"read_on_bound_socket", "EINVAL"},
    {"write_on_socket_address", "EINVAL"},
    // sendmsg on a descriptor that is not a socket: EIO (NaCl's answer); recvmsg on one:
    // EINVAL (NaCl's too).
    {"sendmsg_on_bound_socket", "EIO"},
    {"sendmsg_on_socket_address", "EIO"},
    {"sendmsg_on_shared_memory", "EIO"},
    {"sendmsg_on_stdout", "EIO"},
    {"sendmsg_on_stdout_with_descriptor", "EIO"},
    {"recvmsg_on_bound_socket", "EINVAL"},
    {"recvmsg_on_shared_memory", "EINVAL"},
    // Header, iov array, iov buffer or descv not readable / writable: EFAULT.
    {"sendmsg_header_null", "EFAULT"},
    {"sendmsg_header_unreadable", "EFAULT"},
    {"sendmsg_iov_unreadable", "EFAULT"},
    {"sendmsg_iov_buffer_unreadable", "EFAULT"},
    {"sendmsg_descv_unreadable", "EFAULT"},
    {"recvmsg_header_null", "EFAULT"},
    {"recvmsg_header_unreadable", "EFAULT"},
    {"recvmsg_header_unwritable", "EFAULT"},
    {"recvmsg_iov_unreadable", "EFAULT"},
    {"recvmsg_descv_unwritable", "EFAULT"},
    {"recvmsg_iov_buffer_unwritable", "EFAULT"},
    {"read_buffer_unwritable", "EFAULT"},
    {"write_buffer_unreadable", "EFAULT"},
    {"libc_write_buffer_unreadable", "EFAULT"},
    {"fstat_buffer_unwritable", "EFAULT"},
    {"makeboundsock_out_unwritable", "EFAULT"},
    {"socketpair_out_unwritable", "EFAULT"},
    {"descriptors_left_by_failed_pairs", "0"},
    // iov_length > 256 or desc_length > 8 on send or receive: EINVAL (and the limits work).
    {"sendmsg_iov_length_257", "EINVAL"},
    {"recvmsg_iov_length_257", "EINVAL"},
    {"sendmsg_desc_length_9", "EINVAL"},
    {"recvmsg_desc_length_9", "EINVAL"},
    {"sendmsg_at_limits", "ok"},
    {"recvmsg_at_limits", "ok"},
    // More than 128 KiB of user data: EIO.
    {"sendmsg_128k_bytes", "ok"},
    {"sendmsg_128k_plus_1_bytes", "EIO"},
    // An entry of descv that is neither open nor -1: EBADF; -1 travels as itself.
    {"sendmsg_descv_1234", "EBADF"},
    {"sendmsg_descv_minus_2", "EBADF"},
    {"sendmsg_descv_minus_1", "ok"},
    {"invalid_marker_arrives", "desc_length=1,descv[0]=-1"},
    // Sending a BoundSocket or a ConnectedSocket: EIO. Descriptors over a DataOnlySocket: EIO.
    {"send_bound_socket", "EIO"},
    {"send_connected_socket", "EIO"},
    {"send_descriptor_over_data_only_socket", "EIO"},
    {"send_bytes_over_data_only_socket", "ok"},
    // Connect after every copy of the BoundSocket was closed: EIO.
    {"connect_after_bound_socket_closed", "EIO"},
    // Accept after every copy of the SocketAddress was closed, including copies in flight:
    // EIO; a copy in flight keeps accept waiting.
    {"accept_after_addresses_closed", "EIO"},
    {"accept_waits_while_address_in_flight", "waiting"},
    {"accept_after_address_arrived", "ok"},
    {"accept_after_last_address_closed", "EIO"},
    // recvmsg when the peer closed and nothing is queued: EIO, after what was queued (an
    // empty message included); sendmsg when the peer closed: EIO, never SIGPIPE.
    {"recvmsg_queued_before_close", "4"},
    {"recvmsg_empty_message_before_close", "0"},
    {"recvmsg_after_peer_closed", "EIO"},
    {"sendmsg_after_peer_closed", "EIO"},
    {"data_only_sendmsg_after_peer_closed", "EIO"},
    {"data_only_recvmsg_after_peer_closed", "EIO"},
    // NONBLOCK send/recv that would block: EAGAIN.
    {"recvmsg_nonblock_nothing_queued", "EAGAIN"},
    {"sendmsg_nonblock_queue_full", "EAGAIN"},
    // recvmsg with room for fewer descriptors than arrived: extras closed, DESC_TRUNCATED
    // (2), desc_length = delivered count.
    {"recvmsg_fewer_descriptor_slots", "bytes=5,flags=2,desc_length=1,opened=1"},
    // recvmsg with a short buffer: rest discarded, DATA_TRUNCATED (1).
    {"recvmsg_short_buffer", "bytes=4,flags=1,data=0123"},
    {"recvmsg_after_truncation_gets_next_message", "bytes=4,flags=0,data=next"},
    // imc_mem_obj_create with a size not a multiple of 65536: EINVAL.
    {"mem_obj_create_65537", "EINVAL"},
    {"mem_obj_create_4096", "EINVAL"},
    // imc_mem_obj_create(0): ENOMEM, as NaCl (it could not make an empty object).
    {"mem_obj_create_0", "ENOMEM"},
    {"mem_obj_create_65536", "ok"},
    // dup2 to a negative number or >= 4096: EINVAL.
    {"dup2_negative", "EINVAL"},
    {"dup2_4096", "EINVAL"},
    {"dup2_4095", "ok"},
    // Close of a closed number: EBADF.
    {"close_4095", "ok"},
    {"close_closed", "EBADF"},
    {"libc_close_open", "ok"},
    {"libc_close_closed", "EBADF"},
    // ABI.md's syscall table: unknown numbers return -ENOSYS.
    {"nacl_unassigned_number_2", "ENOSYS"},
    {"nacl_unassigned_number_127", "ENOSYS"},
};

struct Report {
  std::string expected;  // What the module expected.
  std::string actual;
};

// Runs the module once for the whole suite.
class AbiErrorsTest : public ::testing::TestWithParam<ErrorCase> {
 protected:
  static void SetUpTestSuite() {
    run_ = new absl::StatusOr<SelLdrResult>(RunSelLdr({{}, ModulePath("abi_errors"), {}}));
    reports_ = new std::map<std::string, Report>();
    if (!run_->ok()) return;
    for (CaseReport& report : CaseReports((*run_)->out)) {
      (*reports_)[report.name] = {std::move(report.expected), std::move(report.actual)};
    }
  }

  static void TearDownTestSuite() {
    delete run_;
    delete reports_;
  }

  static absl::StatusOr<SelLdrResult>* run_;
  static std::map<std::string, Report>* reports_;
};

absl::StatusOr<SelLdrResult>* AbiErrorsTest::run_ = nullptr;
std::map<std::string, Report>* AbiErrorsTest::reports_ = nullptr;

// Test that the module ran every case to its end under sel_ldr and reported exactly the
// cases this test knows.
TEST_F(AbiErrorsTest, ModuleRanEveryCase) {
  ASSERT_TRUE(run_->ok()) << run_->status();
  const SelLdrResult& result = **run_;
  EXPECT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_TRUE(absl::EndsWith(result.out, "DONE\n")) << result.Describe();
  EXPECT_EQ(result.err, "");
  std::vector<std::string> known;
  for (const ErrorCase& c : kCases) known.push_back(c.name);
  std::vector<std::string> reported;
  for (const auto& [name, report] : *reports_) reported.push_back(name);
  EXPECT_THAT(reported, ::testing::UnorderedElementsAreArray(known));
}

// Test that the case fails (or succeeds) from inside the sandbox as ABI.md says.
TEST_P(AbiErrorsTest, MatchesTheAbi) {
  ASSERT_TRUE(run_->ok()) << run_->status();
  const ErrorCase& c = GetParam();
  auto it = reports_->find(c.name);
  ASSERT_NE(it, reports_->end()) << "the module did not report " << c.name << ": "
                                 << (*run_)->Describe();
  EXPECT_EQ(it->second.actual, c.expected);
  EXPECT_EQ(it->second.expected, c.expected) << "the module and this test disagree";
}

INSTANTIATE_TEST_SUITE_P(ErrorTable, AbiErrorsTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace tests
