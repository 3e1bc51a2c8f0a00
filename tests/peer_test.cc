// End-to-end: sel_ldr facing peers and modules that push on its limits. A peer that turns on
// SO_PASSPIDFD on the socket it gave sel_ldr (-i) must not make sel_ldr collect pidfds, and a
// module that connects to its own bound socket without accepting is held to
// --max-pending-connections.
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/fd_count.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/imc.h"
#include "imc/text_message.h"
#include "tests/sel_ldr_runner.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif

namespace tests {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr int kChannelFd = 10;
constexpr int kModuleChannel = 5;

// The next message's text (no descriptors), within 10 s.
absl::StatusOr<std::string> Receive(const imc::ConnectedSocket& socket) {
  absl::StatusOr<imc::TextMessage> received =
      imc::ReceiveText(socket, 4096, 0, imc::WithinSeconds(10));
  if (!received.ok()) return received.status();
  return received->text;
}

// Test that a peer which kept a copy of sel_ldr's -i socket and turned SO_PASSPIDFD on there
// (so that the kernel adds a pidfd to every message sel_ldr receives) leaves sel_ldr's fd
// count where it was after 2,000 messages: each is refused (the module sees EIO) and its
// pidfd closed. Once the peer turns the option off, honest messages get through again.
TEST(PeerTest, PidfdsFromAPeerDoNotAccumulate) {
  const int fds_before = base::CountOpenFds();
  absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> pair = MakeImcSocketPair();
  ASSERT_OK(pair);
  auto& [mine, theirs] = *pair;
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> started =
      SelLdrProcess::Start({{"-i", absl::StrCat(kModuleChannel, ":", kChannelFd)},
                            ModulePath("peer_receiver"),
                            {std::to_string(kModuleChannel)},
                            {{kChannelFd, theirs.get()}}});
  ASSERT_OK(started);
  std::unique_ptr<SelLdrProcess> sel_ldr = *std::move(started);
  absl::StatusOr<std::string> ready = sel_ldr->ReadLine();
  ASSERT_OK(ready);
  ASSERT_EQ(*ready, "peer_receiver: ready");
  absl::StatusOr<imc::ConnectedSocket> channel =
      imc::ConnectedSocket::FromHostSocket(std::move(mine));
  ASSERT_OK(channel);

  // This process still holds sel_ldr's end: set the option on it.
  const int on = 1;
  ASSERT_EQ(setsockopt(theirs.get(), SOL_SOCKET, SO_PASSPIDFD, &on, sizeof(on)), 0);
  const int sel_ldr_fds = base::CountOpenFdsOf(sel_ldr->pid());
  ASSERT_GT(sel_ldr_fds, 0);
  // sel_ldr's own fds vary by a few (worker threads, the call being served); a leak would
  // add one per message.
  constexpr int kSlack = 8;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK(imc::SendText(*channel, absl::StrCat("message ", i), {}, imc::WithinSeconds(10)));
    absl::StatusOr<std::string> answer = Receive(*channel);
    ASSERT_OK(answer);
    ASSERT_EQ(*answer, "refused") << "message " << i;
    if (i % 500 == 499) {
      EXPECT_LE(base::CountOpenFdsOf(sel_ldr->pid()), sel_ldr_fds + kSlack)
          << "after " << i + 1 << " messages";
    }
  }
  EXPECT_LE(base::CountOpenFdsOf(sel_ldr->pid()), sel_ldr_fds + kSlack);

  const int off = 0;
  ASSERT_EQ(setsockopt(theirs.get(), SOL_SOCKET, SO_PASSPIDFD, &off, sizeof(off)), 0);
  ASSERT_OK(imc::SendText(*channel, "honest", {}, imc::WithinSeconds(10)));
  absl::StatusOr<std::string> echo = Receive(*channel);
  ASSERT_OK(echo);
  EXPECT_EQ(*echo, "honest");

  theirs.reset();
  { imc::ConnectedSocket closing = *std::move(channel); }
  absl::StatusOr<SelLdrResult> result = sel_ldr->Wait();
  ASSERT_OK(result);
  EXPECT_TRUE(result->exited && result->exit_status == 0) << result->Describe();
  sel_ldr.reset();
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

// Test that a module connecting to its own bound socket without accepting gets exactly
// --max-pending-connections requests queued: the next connect blocks (no line for a second),
// and goes on once the module's other thread accepts; all 164 then complete.
TEST(PeerTest, PendingConnectionsAreCappedAndConnectWaits) {
  constexpr int kCap = 64;
  constexpr int kTotal = kCap + 100;
  SelLdrCommand command;
  command.flags = {"--max-pending-connections", std::to_string(kCap)};
  command.module = ModulePath("pending_connects");
  command.args = {std::to_string(kTotal)};
  command.pipe_stdin = true;
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> started = SelLdrProcess::Start(command);
  ASSERT_OK(started);
  std::unique_ptr<SelLdrProcess> sel_ldr = *std::move(started);
  for (int i = 1; i <= kCap; ++i) {
    absl::StatusOr<std::string> line = sel_ldr->ReadLine();
    ASSERT_OK(line) << "connect " << i;
    ASSERT_EQ(*line, absl::StrCat("connected ", i));
  }
  const int sel_ldr_fds = base::CountOpenFdsOf(sel_ldr->pid());
  // The connect beyond the cap waits: nothing more is printed.
  absl::StatusOr<std::string> beyond = sel_ldr->ReadLine(absl::Seconds(1));
  EXPECT_FALSE(beyond.ok()) << "a connect beyond the cap returned: " << *beyond;
  // The requests wait in the kernel, not as fds of sel_ldr.
  EXPECT_LE(base::CountOpenFdsOf(sel_ldr->pid()), sel_ldr_fds + 8);

  ASSERT_OK(sel_ldr->WriteStdin("go\n"));
  absl::StatusOr<SelLdrResult> result = sel_ldr->Wait();
  ASSERT_OK(result);
  EXPECT_TRUE(result->exited && result->exit_status == 0) << result->Describe();
  std::vector<std::string> lines = Lines(result->out);
  EXPECT_EQ(lines.size(), static_cast<size_t>(kTotal - kCap + 1)) << result->Describe();
  EXPECT_THAT(lines, Contains(absl::StrCat("connected ", kTotal)));
  EXPECT_THAT(lines, Contains(absl::StrCat("accepted ", kTotal)));
}

// Test that --max-pending-connections takes 1..1000000 and refuses anything else as a usage
// error.
TEST(PeerTest, MaxPendingConnectionsFlagIsChecked) {
  for (const char* bad : {"0", "-1", "1000001", "many"}) {
    SelLdrCommand command;
    command.flags = {"--max-pending-connections", bad};
    command.module = ModulePath("pending_connects");
    absl::StatusOr<SelLdrResult> result = RunSelLdr(command);
    ASSERT_OK(result);
    EXPECT_TRUE(result->exited && result->exit_status == 2) << bad << ": " << result->Describe();
    EXPECT_THAT(result->err, HasSubstr("--max-pending-connections")) << bad;
  }
}

}  // namespace
}  // namespace tests
