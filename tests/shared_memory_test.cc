// End-to-end: shared memory between two modules in two sel_ldr processes. One creates a
// memory object with imc_mem_obj_create and maps it, sends it to the other over an IMC
// channel the test wired with -i, and each sees what the other wrote.
#include <memory>
#include <string>

#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::ElementsAre;

// Test that a module mapping a received SharedMemory descriptor sees the creator's writes,
// and the creator sees the peer's.
TEST(SharedMemoryTest, TwoModulesSeeEachOthersWrites) {
  const int fds_before = base::CountOpenFds();
  constexpr int kChannel = 10;
  auto channel = MakeImcSocketPair();
  ASSERT_TRUE(channel.ok()) << channel.status();
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> creator =
      SelLdrProcess::Start({{"-i", "3:10"},
                            ModulePath("shared_memory"),
                            {"creator"},
                            {{kChannel, channel->first.get()}}});
  ASSERT_TRUE(creator.ok()) << creator.status();
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> peer = SelLdrProcess::Start(
      {{"-i", "3:10"}, ModulePath("shared_memory"), {"peer"}, {{kChannel, channel->second.get()}}});
  ASSERT_TRUE(peer.ok()) << peer.status();
  channel->first.reset();
  channel->second.reset();

  absl::StatusOr<SelLdrResult> peer_result = (*peer)->Wait();
  ASSERT_TRUE(peer_result.ok()) << peer_result.status();
  EXPECT_EQ(peer_result->exit_status, 0) << peer_result->Describe();
  EXPECT_THAT(Lines(peer_result->out),
              ElementsAre("peer: got a 131072-byte object, offset 0 holds 'written by the "
                          "creator'"));
  absl::StatusOr<SelLdrResult> creator_result = (*creator)->Wait();
  ASSERT_TRUE(creator_result.ok()) << creator_result.status();
  EXPECT_EQ(creator_result->exit_status, 0) << creator_result->Describe();
  EXPECT_THAT(Lines(creator_result->out),
              ElementsAre("creator: peer says 'done', offset 32768 holds 'written by the "
                          "peer'"));
  EXPECT_EQ(peer_result->err, "");
  EXPECT_EQ(creator_result->err, "");
  creator->reset();
  peer->reset();
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

}  // namespace
}  // namespace tests
