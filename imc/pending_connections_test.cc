// 100,000 pending connections on one bound socket, none accepted until all are queued.
//
// Privileges: every pending request is charged to the address socket's send buffer (768 bytes
// each here), which MakeBoundSocket sizes for max_pending (4096 by default, 100,000 here) and
// only SO_SNDBUFFORCE (CAP_NET_ADMIN) raises far enough; Bazel's
// linux-sandbox drops CAP_NET_ADMIN, so the test is tagged no-sandbox and runs as root.
// The request fds in flight count against RLIMIT_NOFILE of the sending *user*, a budget every
// process of that user shares: 100,000 of them charged to root would make every other root
// process without CAP_SYS_RESOURCE (sandboxed tests running alongside) fail to pass fds with
// ETOOMANYREFS. So each connector process moves to a user id of its own (CAP_SETUID,
// CAP_SETGID) and keeps its 12,500 requests within its own budget. Without the privileges the
// test fails and says what is missing.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/bound_socket.h"
#include "imc/forked_child.h"
#include "imc/message_socket.h"
#include "imc/text_message.h"

namespace imc {
namespace {

using ::base::HasErrno;

constexpr int kConnectorProcesses = 8;
constexpr int kConnectsPerProcess = 12'500;
constexpr int kPendingConnections = kConnectorProcesses * kConnectsPerProcess;
// Besides its connections, a connector holds a few fds (stdio, the bound socket pair, pipes).
constexpr rlim_t kFdsPerConnector = kConnectsPerProcess + 64;

// True if the effective capability set has `capability` (read from /proc/self/status).
bool HasCapability(int capability) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    uint64_t effective = strtoull(line.c_str() + 7, nullptr, 16);
    return (effective >> capability) & 1;
  }
  return false;
}

// Returns what keeps this test from queueing kPendingConnections requests, or an empty
// string if nothing does.
std::string MissingPrivilege(const SocketAddress& address) {
  int buffer = 0;
  socklen_t length = sizeof(buffer);
  if (getsockopt(address.fd(), SOL_SOCKET, SO_SNDBUF, &buffer, &length) != 0) {
    return absl::StrCat("getsockopt(SO_SNDBUF) failed: ", strerror(errno));
  }
  if (buffer < int64_t{kPendingConnections} * PendingRequestBytes()) {
    return absl::StrCat(
        "the address's send buffer is ", buffer, " bytes, room for ",
        buffer / PendingRequestBytes(), " pending requests, not ", kPendingConnections,
        ". MakeBoundSocket() raises it with SO_SNDBUFFORCE, which needs CAP_NET_ADMIN (have it: ",
        HasCapability(CAP_NET_ADMIN) ? "yes" : "no",
        "). Run this test as root outside Bazel's sandbox (tags = [\"no-sandbox\"]).");
  }
  if (!HasCapability(CAP_SETUID) || !HasCapability(CAP_SETGID)) {
    return "the connector processes need CAP_SETUID and CAP_SETGID to move to user ids of their "
           "own, so that their fds in flight do not exhaust root's RLIMIT_NOFILE budget. Run this "
           "test as root.";
  }
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return "getrlimit(RLIMIT_NOFILE) failed";
  if (limit.rlim_max < kFdsPerConnector && !HasCapability(CAP_SYS_RESOURCE)) {
    return absl::StrCat("RLIMIT_NOFILE's hard limit ", limit.rlim_max, " is below the ",
                        kFdsPerConnector,
                        " fds each connector holds, and raising it needs CAP_SYS_RESOURCE");
  }
  return "";
}

// In a connector, while still root: makes room for its connections and its requests in flight,
// then moves to the user `uid`, which no other process uses, and so drops every capability.
// Prints what failed.
bool BecomeConnectorUser(uid_t uid) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_max < kFdsPerConnector) limit.rlim_max = kFdsPerConnector;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    fprintf(stderr, "setrlimit(RLIMIT_NOFILE, %ju): %s\n", static_cast<uintmax_t>(limit.rlim_max),
            strerror(errno));
    return false;
  }
  if (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 ||
      setresuid(uid, uid, uid) != 0) {
    fprintf(stderr, "moving to uid %u: %s\n", static_cast<unsigned>(uid), strerror(errno));
    return false;
  }
  return true;
}

// Test that one bound socket made with max_pending 100,000 holds 100,000 pending connections
// without any accept, and that then every one is accepted exactly once and usable in both
// directions.
TEST(PendingConnectionsTest, HundredThousandPendingThenAllAccepted) {
  absl::StatusOr<std::pair<BoundSocket, SocketAddress>> bound =
      MakeBoundSocket({.max_pending = kPendingConnections});
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  const std::string missing = MissingPrivilege(address);
  ASSERT_EQ(missing, "") << "this test needs privileges it does not have: " << missing;

  int ready_pipe[2];
  ASSERT_EQ(pipe2(ready_pipe, O_CLOEXEC), 0);
  base::UniqueFd ready_read(ready_pipe[0]);
  base::UniqueFd ready_write(ready_pipe[1]);

  // User ids for the connectors: below 65536 so that they exist in a typical container's
  // user namespace, in a range Debian leaves to dynamic allocation, and distinct per test run.
  const uid_t first_uid = 60000 + (getpid() % 500) * kConnectorProcesses;

  const absl::Time start = absl::Now();
  std::vector<ForkedChild> connectors;
  for (int process = 0; process < kConnectorProcesses; ++process) {
    absl::StatusOr<ForkedChild> child = ForkedChild::Start([&, process]() -> int {
      ready_read.reset();
      { BoundSocket closing = std::move(bound_socket); }
      CHILD_CHECK(BecomeConnectorUser(first_uid + process));
      std::vector<ConnectedSocket> connections;
      connections.reserve(kConnectsPerProcess);
      const int first_id = process * kConnectsPerProcess;
      for (int i = 0; i < kConnectsPerProcess; ++i) {
        absl::StatusOr<ConnectedSocket> connection = address.Connect({false, WithinSeconds(120)});
        CHILD_CHECK_OK(connection);
        CHILD_CHECK_OK(SendText(*connection, absl::StrCat(first_id + i)));
        connections.push_back(*std::move(connection));
      }
      CHILD_CHECK(write(ready_write.get(), "r", 1) == 1);
      ready_write.reset();
      for (int i = 0; i < kConnectsPerProcess; ++i) {
        absl::StatusOr<TextMessage> echo = ReceiveText(connections[i], 64, 0, WithinSeconds(120));
        CHILD_CHECK_OK(echo);
        CHILD_CHECK(echo->text == absl::StrCat("echo ", first_id + i));
      }
      return 0;
    });
    ASSERT_OK(child);
    connectors.push_back(*std::move(child));
  }
  // Only the connectors hold the address and the ready pipe's write end now.
  { SocketAddress closing = std::move(address); }
  ready_write.reset();

  int ready = 0;
  while (ready < kConnectorProcesses) {
    struct pollfd pfd = {ready_read.get(), POLLIN, 0};
    ASSERT_EQ(poll(&pfd, 1, 180'000), 1) << "connectors did not queue their requests in time";
    char byte;
    ssize_t n = read(ready_read.get(), &byte, 1);
    ASSERT_EQ(n, 1) << "a connector died before queueing all its requests";
    ++ready;
  }
  const absl::Duration queue_time = absl::Now() - start;

  // Every request is one byte in the bound socket's queue: all are pending at once.
  int queued_bytes = 0;
  ASSERT_EQ(ioctl(bound_socket.fd(), SIOCINQ, &queued_bytes), 0);
  EXPECT_EQ(queued_bytes, kPendingConnections);

  const absl::Time accept_start = absl::Now();
  std::vector<bool> seen(kPendingConnections, false);
  int accepted_count = 0;
  for (int i = 0; i < kPendingConnections; ++i) {
    absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(60));
    ASSERT_OK(accepted) << "after " << i << " accepts";
    absl::StatusOr<TextMessage> id = ReceiveText(*accepted, 64, 0, WithinSeconds(60));
    ASSERT_OK(id) << "after " << i << " accepts";
    int value = -1;
    ASSERT_TRUE(absl::SimpleAtoi(id->text, &value)) << id->text;
    ASSERT_GE(value, 0);
    ASSERT_LT(value, kPendingConnections);
    ASSERT_FALSE(seen[value]) << "connection " << value << " accepted twice";
    seen[value] = true;
    ++accepted_count;
    ASSERT_OK(SendText(*accepted, absl::StrCat("echo ", value)));
  }
  const absl::Duration accept_time = absl::Now() - accept_start;
  EXPECT_EQ(accepted_count, kPendingConnections);

  for (ForkedChild& connector : connectors) EXPECT_OK(connector.Wait());
  // The connectors held the last addresses, and no request is left.
  EXPECT_THAT(bound_socket.Accept(WithinSeconds(10)), HasErrno(EPIPE));
  std::cout << "queued " << kPendingConnections << " requests in " << queue_time
            << ", accepted and echoed them in " << accept_time << "\n";
}

}  // namespace
}  // namespace imc
