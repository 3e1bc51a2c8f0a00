// End-to-end: three modules in three sel_ldr processes. A server (echo_server) hands its
// SocketAddress to a broker, the broker passes it to a client, and the client connects to
// the server directly. The test only wires the processes together with socketpairs.
#include <memory>
#include <string>
#include <utility>

#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Test that a SocketAddress a broker module passes on lets a third module connect to the
// server module directly, and that the server ends (accept: EIO) once the broker and the
// client, the only holders of its address, are gone.
TEST(ThreeModulesTest, BrokerPassesAnAddressAndTheClientConnectsDirectly) {
  const int fds_before = base::CountOpenFds();
  constexpr int kFirst = 10;
  constexpr int kSecond = 11;
  auto bootstrap = MakeImcSocketPair();
  auto server_broker = MakeImcSocketPair();
  auto broker_client = MakeImcSocketPair();
  ASSERT_TRUE(bootstrap.ok() && server_broker.ok() && broker_client.ok());

  // The server registers with the broker over its descriptor 5.
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> server = SelLdrProcess::Start(
      {{"-X", std::to_string(kFirst), "-i", "5:" + std::to_string(kSecond)},
       RunfilePath("tools/modules/echo_server.nexe"),
       {"5"},
       {{kFirst, bootstrap->second.get()}, {kSecond, server_broker->first.get()}}});
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> broker = SelLdrProcess::Start(
      {{"-i", "3:" + std::to_string(kFirst), "-i", "4:" + std::to_string(kSecond)},
       ModulePath("broker"),
       {},
       {{kFirst, server_broker->second.get()}, {kSecond, broker_client->first.get()}}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> client =
      SelLdrProcess::Start({{"-i", "3:" + std::to_string(kFirst)},
                            ModulePath("echo_client"),
                            {},
                            {{kFirst, broker_client->second.get()}}});
  ASSERT_TRUE(client.ok()) << client.status();
  // Only the three processes hold the channels now.
  bootstrap->second.reset();
  for (auto* pair : {&*server_broker, &*broker_client}) {
    pair->first.reset();
    pair->second.reset();
  }

  // The embedder's copy of the server's address (from -X) is dropped unused: the client
  // must get the address through the broker.
  {
    absl::StatusOr<imc::SocketAddress> embedder_copy =
        ReceiveServiceAddress(std::move(bootstrap->first));
    ASSERT_TRUE(embedder_copy.ok()) << embedder_copy.status();
  }

  absl::StatusOr<SelLdrResult> client_result = (*client)->Wait();
  ASSERT_TRUE(client_result.ok()) << client_result.status();
  EXPECT_EQ(client_result->exit_status, 0) << client_result->Describe();
  EXPECT_THAT(Lines(client_result->out),
              ElementsAre("echo_client: connected",
                          HasSubstr("echo_client: echoed 25 bytes 'hello through the broker', "
                                    "2 descriptors, second -1"),
                          "echo_client: the echoed DataOnlySocket works"));

  absl::StatusOr<SelLdrResult> broker_result = (*broker)->Wait();
  ASSERT_TRUE(broker_result.ok()) << broker_result.status();
  EXPECT_EQ(broker_result->exit_status, 0) << broker_result->Describe();
  EXPECT_THAT(Lines(broker_result->out),
              ElementsAre("broker: got the SocketAddress of 'echo'", "broker: passed it on"));

  absl::StatusOr<SelLdrResult> server_result = (*server)->Wait();
  ASSERT_TRUE(server_result.ok()) << server_result.status();
  EXPECT_EQ(server_result->exit_status, 0) << server_result->Describe();
  EXPECT_THAT(Lines(server_result->out),
              ElementsAre("echo_server: ready", "echo_server: served 1 connections"));
  for (const SelLdrResult* result : {&*client_result, &*broker_result, &*server_result}) {
    EXPECT_EQ(result->err, "") << result->Describe();
  }
  server->reset();
  broker->reset();
  client->reset();
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

}  // namespace
}  // namespace tests
