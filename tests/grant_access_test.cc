// End-to-end: a read-only or write-only grant (sel_ldr -r / -w) stays one however often the
// module passes it on. The host file is opened read-write, so only the grant stands between
// the module and the operation it was not given. Each hop sends the descriptor in an IMC
// message and receives it back: through the module's own connection, through the embedder
// (an imc library user), or through echo_server in another sel_ldr.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/fd_count.h"
#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/imc.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::ElementsAre;

constexpr int kFileFd = 10;
constexpr int kBootstrapFd = 11;
constexpr char kContents[] = "original";

imc::WaitOptions Within(absl::Duration timeout) {
  imc::WaitOptions wait;
  wait.deadline = absl::Now() + timeout;
  return wait;
}

class GrantAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = base::CountOpenFds();
    path_ = absl::StrCat(TestTempDir(), "/grant_access_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    base::UniqueFd file(open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(file.valid());
    ASSERT_EQ(write(file.get(), kContents, sizeof(kContents) - 1),
              static_cast<ssize_t>(sizeof(kContents) - 1));
    ASSERT_EQ(lseek(file.get(), 0, SEEK_SET), 0);
    // Read-write: the kernel would allow both operations.
    file_ = std::move(file);
  }

  void TearDown() override {
    file_.reset();
    EXPECT_EQ(base::CountOpenFds(), fds_before_) << base::DescribeOpenFds();
  }

  // What the host file holds now.
  std::string Contents() const {
    base::UniqueFd file(open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    char buffer[64];
    ssize_t n = read(file.get(), buffer, sizeof(buffer));
    return n < 0 ? "<unreadable>" : std::string(buffer, static_cast<size_t>(n));
  }

  // Runs grant_hops on the file granted with `flag` as descriptor 5, `hops` times over its
  // own connection, and returns its report line.
  std::string RunSelf(const char* flag, int hops) {
    absl::StatusOr<SelLdrResult> result = RunSelLdr({{flag, absl::StrCat("5:", kFileFd)},
                                                     ModulePath("grant_hops"),
                                                     {"5", std::to_string(hops), "self"},
                                                     {{kFileFd, file_.get()}}});
    if (!result.ok()) return result.status().ToString();
    EXPECT_TRUE(result->exited && result->exit_status == 0) << result->Describe();
    EXPECT_EQ(result->err, "") << result->Describe();
    std::vector<std::string> lines = Lines(result->out);
    return lines.size() == 1 ? lines[0] : result->Describe();
  }

  int fds_before_ = 0;
  std::string path_;
  base::UniqueFd file_;
};

// Test that a read-only grant refuses writes (EBADF) directly and after 1 and 3 hops, still
// reads, and leaves the host file unchanged.
TEST_F(GrantAccessTest, ReadOnlyStaysReadOnlyOverHops) {
  for (int hops : {0, 1, 3}) {
    EXPECT_EQ(RunSelf("-r", hops), absl::StrCat("hops=", hops, " read=ok write=EBADF fstat=ok"));
    EXPECT_EQ(Contents(), kContents) << hops << " hops";
  }
}

// Test that a write-only grant refuses reads (EBADF) directly and after 1 and 3 hops, and
// still writes.
TEST_F(GrantAccessTest, WriteOnlyStaysWriteOnlyOverHops) {
  for (int hops : {0, 1, 3}) {
    ASSERT_EQ(lseek(file_.get(), 0, SEEK_SET), 0);
    EXPECT_EQ(RunSelf("-w", hops), absl::StrCat("hops=", hops, " read=EBADF write=ok fstat=ok"));
    // The write, at the offset no read moved, is the only change.
    EXPECT_EQ(Contents(), "Xriginal") << hops << " hops";
  }
}

// Test that a read-write grant keeps both operations over hops: nothing narrows a grant
// that the fd allows.
TEST_F(GrantAccessTest, ReadWriteStaysReadWriteOverHops) {
  EXPECT_EQ(RunSelf("-h", 3), "hops=3 read=ok write=ok fstat=ok");
  // One byte read, then "X" written after it.
  EXPECT_EQ(Contents(), "oXiginal");
}

// Test that a read-only grant that goes out to the embedder arrives there read-only (the
// imc library reports the sender's access), and, sent back with it 3 times, still refuses
// writes in the module.
TEST_F(GrantAccessTest, ReadOnlyStaysReadOnlyThroughTheEmbedder) {
  auto bootstrap = MakeImcSocketPair();
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> module =
      SelLdrProcess::Start({{"-r", absl::StrCat("5:", kFileFd), "-X", std::to_string(kBootstrapFd)},
                            ModulePath("grant_hops"),
                            {"5", "3", "peer"},
                            {{kFileFd, file_.get()}, {kBootstrapFd, bootstrap->second.get()}}});
  ASSERT_TRUE(module.ok()) << module.status();
  bootstrap->second.reset();
  {
    absl::StatusOr<imc::SocketAddress> address = ReceiveServiceAddress(std::move(bootstrap->first));
    ASSERT_TRUE(address.ok()) << address.status();
    imc::ConnectOptions options;
    options.wait = Within(absl::Seconds(10));
    absl::StatusOr<imc::ConnectedSocket> connection = address->Connect(options);
    ASSERT_TRUE(connection.ok()) << connection.status();
    for (int hop = 0; hop < 3; ++hop) {
      char buffer[16];
      iovec iov = {buffer, sizeof(buffer)};
      absl::StatusOr<imc::ReceivedMessage> received =
          connection->Receive({&iov, 1}, 1, Within(absl::Seconds(10)));
      ASSERT_TRUE(received.ok()) << received.status();
      ASSERT_EQ(received->descriptors.size(), 1u);
      const imc::IncomingDescriptor& grant = received->descriptors[0];
      EXPECT_EQ(grant.kind, imc::DescriptorKind::kHostIo);
      EXPECT_EQ(grant.access, imc::HostIoAccess::kReadOnly)
          << "hop " << hop << ": " << imc::HostIoAccessName(grant.access);
      // Passed on as it came, as an embedder should.
      const imc::OutgoingDescriptor back = {grant.kind, grant.fd.get(), grant.access};
      iovec out = {buffer, received->bytes};
      ASSERT_OK(connection->Send({{&out, 1}, {&back, 1}}, Within(absl::Seconds(10))));
    }
  }
  absl::StatusOr<SelLdrResult> result = (*module)->Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("hops=3 read=ok write=EBADF fstat=ok"));
  EXPECT_EQ(Contents(), kContents);
}

// Test that a write-only grant sent 3 times through echo_server, a module in another
// sel_ldr, comes back write-only: reads fail with EBADF.
TEST_F(GrantAccessTest, WriteOnlyStaysWriteOnlyThroughAnotherSelLdr) {
  auto echo_bootstrap = MakeImcSocketPair();
  auto hops_bootstrap = MakeImcSocketPair();
  ASSERT_TRUE(echo_bootstrap.ok() && hops_bootstrap.ok());
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> echo =
      SelLdrProcess::Start({{"-X", std::to_string(kBootstrapFd)},
                            RunfilePath("tools/modules/echo_server.nexe"),
                            {},
                            {{kBootstrapFd, echo_bootstrap->second.get()}}});
  ASSERT_TRUE(echo.ok()) << echo.status();
  echo_bootstrap->second.reset();
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> module = SelLdrProcess::Start(
      {{"-w", absl::StrCat("5:", kFileFd), "-X", std::to_string(kBootstrapFd)},
       ModulePath("grant_hops"),
       {"5", "3", "relay"},
       {{kFileFd, file_.get()}, {kBootstrapFd, hops_bootstrap->second.get()}}});
  ASSERT_TRUE(module.ok()) << module.status();
  hops_bootstrap->second.reset();
  {
    absl::StatusOr<imc::SocketAddress> echo_address =
        ReceiveServiceAddress(std::move(echo_bootstrap->first));
    ASSERT_TRUE(echo_address.ok()) << echo_address.status();
    absl::StatusOr<imc::SocketAddress> hops_address =
        ReceiveServiceAddress(std::move(hops_bootstrap->first));
    ASSERT_TRUE(hops_address.ok()) << hops_address.status();
    imc::ConnectOptions options;
    options.wait = Within(absl::Seconds(10));
    absl::StatusOr<imc::ConnectedSocket> connection = hops_address->Connect(options);
    ASSERT_TRUE(connection.ok()) << connection.status();
    // The module's only way to echo_server: the address the embedder hands it.
    const imc::OutgoingDescriptor relay = {imc::DescriptorKind::kSocketAddress, echo_address->fd()};
    char text[] = "relay";
    iovec iov = {text, 5};
    ASSERT_OK(connection->Send({{&iov, 1}, {&relay, 1}}, Within(absl::Seconds(10))));
  }
  absl::StatusOr<SelLdrResult> result = (*module)->Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("hops=3 read=EBADF write=ok fstat=ok"));
  EXPECT_EQ(Contents(), "Xriginal");
  // echo_server ends once the last copy of its address (the module's) is gone.
  absl::StatusOr<SelLdrResult> echo_result = (*echo)->Wait();
  ASSERT_TRUE(echo_result.ok()) << echo_result.status();
  EXPECT_EQ(echo_result->exit_status, 0) << echo_result->Describe();
}

}  // namespace
}  // namespace tests
