// Many connectors, many acceptors, many senders at once. Synchronization here uses std::thread,
// std::mutex and atomics, which ThreadSanitizer understands (run with --config=tsan).
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
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
using ::testing::IsEmpty;

constexpr int kConnectorProcesses = 4;
constexpr int kConnectsPerProcess = 1000;
constexpr int kAcceptorThreads = 2;

std::string ConnectionId(int process, int index) { return absl::StrCat(process, ":", index); }

// Accepts until end of stream; for each connection, receives the connector's id, echoes it,
// and records it. Failures go to `errors`.
void AcceptUntilEndOfStream(const BoundSocket& bound, std::mutex& mutex,
                            std::vector<std::string>& ids, std::vector<std::string>& errors) {
  for (;;) {
    absl::StatusOr<ConnectedSocket> accepted = bound.Accept(WithinSeconds(60));
    if (!accepted.ok()) {
      if (base::ErrnoOf(accepted.status()) == EPIPE) return;
      std::lock_guard<std::mutex> lock(mutex);
      errors.push_back(absl::StrCat("accept: ", accepted.status().ToString()));
      return;
    }
    absl::StatusOr<TextMessage> id = ReceiveText(*accepted, 64, 0, WithinSeconds(60));
    absl::Status echoed = id.ok() ? SendText(*accepted, id->text) : id.status();
    std::lock_guard<std::mutex> lock(mutex);
    if (!echoed.ok()) {
      errors.push_back(absl::StrCat("serving a connection: ", echoed.ToString()));
      continue;
    }
    ids.push_back(id->text);
  }
}

// Test that 4 connector processes making 1,000 connections each against one bound socket,
// served by 2 acceptor threads, have every request accepted exactly once: none lost, none
// duplicated, each connection answering its own connector.
TEST(ConcurrencyTest, ConnectorProcessesAndAcceptorThreads) {
  absl::StatusOr<std::pair<BoundSocket, SocketAddress>> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);

  // Fork every connector before any thread starts.
  std::vector<ForkedChild> connectors;
  for (int process = 0; process < kConnectorProcesses; ++process) {
    absl::StatusOr<ForkedChild> child = ForkedChild::Start([&address = address, process]() -> int {
      // Queue all requests first (keeping every connection), then collect the echoes, so
      // that requests pile up while the acceptors work.
      std::vector<ConnectedSocket> connections;
      connections.reserve(kConnectsPerProcess);
      for (int index = 0; index < kConnectsPerProcess; ++index) {
        absl::StatusOr<ConnectedSocket> connection = address.Connect({false, WithinSeconds(60)});
        CHILD_CHECK_OK(connection);
        CHILD_CHECK_OK(SendText(*connection, ConnectionId(process, index)));
        connections.push_back(*std::move(connection));
      }
      for (int index = 0; index < kConnectsPerProcess; ++index) {
        absl::StatusOr<TextMessage> echo =
            ReceiveText(connections[index], 64, 0, WithinSeconds(60));
        CHILD_CHECK_OK(echo);
        CHILD_CHECK(echo->text == ConnectionId(process, index));
      }
      return 0;
    });
    ASSERT_OK(child);
    connectors.push_back(*std::move(child));
  }
  // From here on only the connectors hold the address: when they are done, Accept sees the
  // end of the stream.
  { SocketAddress closing = std::move(address); }

  std::mutex mutex;
  std::vector<std::string> ids;
  std::vector<std::string> errors;
  std::vector<std::thread> acceptors;
  for (int i = 0; i < kAcceptorThreads; ++i) {
    acceptors.emplace_back([&bound_socket = bound_socket, &mutex, &ids, &errors] {
      AcceptUntilEndOfStream(bound_socket, mutex, ids, errors);
    });
  }
  for (ForkedChild& connector : connectors) EXPECT_OK(connector.Wait());
  for (std::thread& acceptor : acceptors) acceptor.join();

  EXPECT_THAT(errors, IsEmpty());
  EXPECT_EQ(ids.size(), size_t{kConnectorProcesses * kConnectsPerProcess});
  std::set<std::string> distinct(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), size_t{kConnectorProcesses * kConnectsPerProcess});
  for (int process = 0; process < kConnectorProcesses; ++process) {
    for (int index = 0; index < kConnectsPerProcess; ++index) {
      ASSERT_EQ(distinct.count(ConnectionId(process, index)), 1u) << process << ":" << index;
    }
  }
}

// Test that confirmed connects from several threads against acceptors in several threads all
// succeed, each accepted exactly once.
TEST(ConcurrencyTest, ConfirmedConnectsFromThreads) {
  constexpr int kConnectorThreads = 4;
  constexpr int kConnectsPerThread = 250;
  absl::StatusOr<std::pair<BoundSocket, SocketAddress>> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  std::mutex mutex;
  std::vector<std::string> ids;
  std::vector<std::string> errors;
  std::vector<std::thread> acceptors;
  for (int i = 0; i < kAcceptorThreads; ++i) {
    acceptors.emplace_back([&bound_socket = bound_socket, &mutex, &ids, &errors] {
      AcceptUntilEndOfStream(bound_socket, mutex, ids, errors);
    });
  }
  std::vector<std::thread> connectors;
  std::atomic<int> failures{0};
  for (int thread = 0; thread < kConnectorThreads; ++thread) {
    connectors.emplace_back([&address = address, &failures, thread] {
      for (int index = 0; index < kConnectsPerThread; ++index) {
        absl::StatusOr<ConnectedSocket> connection = address.Connect({true, WithinSeconds(60)});
        if (!connection.ok() || !SendText(*connection, ConnectionId(thread, index)).ok()) {
          failures.fetch_add(1);
          continue;
        }
        absl::StatusOr<TextMessage> echo = ReceiveText(*connection, 64, 0, WithinSeconds(60));
        if (!echo.ok() || echo->text != ConnectionId(thread, index)) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& connector : connectors) connector.join();
  { SocketAddress closing = std::move(address); }
  for (std::thread& acceptor : acceptors) acceptor.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT(errors, IsEmpty());
  std::set<std::string> distinct(ids.begin(), ids.end());
  EXPECT_EQ(ids.size(), size_t{kConnectorThreads * kConnectsPerThread});
  EXPECT_EQ(distinct.size(), size_t{kConnectorThreads * kConnectsPerThread});
}

// Test that messages sent on one socket by several threads at once, and received by several
// threads at once, each arrive whole: no message is split, merged or lost.
TEST(ConcurrencyTest, ConcurrentSendsAndReceivesKeepMessagesWhole) {
  constexpr int kSenderThreads = 4;
  constexpr int kReceiverThreads = 2;
  constexpr int kMessagesPerSender = 1000;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  base::UniqueFd second(fds[1]);
  absl::StatusOr<ConnectedSocket> sender = ConnectedSocket::FromHostSocket(base::UniqueFd(fds[0]));
  ASSERT_OK(sender);
  absl::StatusOr<ConnectedSocket> receiver = ConnectedSocket::FromHostSocket(std::move(second));
  ASSERT_OK(receiver);

  std::atomic<int> bad_messages{0};
  std::atomic<int> counts[kSenderThreads] = {};
  std::vector<std::thread> receivers;
  for (int i = 0; i < kReceiverThreads; ++i) {
    receivers.emplace_back([&receiver, &bad_messages, &counts] {
      for (;;) {
        absl::StatusOr<TextMessage> message = ReceiveText(*receiver, 8192, 0, WithinSeconds(60));
        if (!message.ok()) {
          if (base::ErrnoOf(message.status()) != EPIPE) bad_messages.fetch_add(1);
          return;
        }
        // A message is one sender's digit repeated; its length says which message it was.
        const std::string& text = message->text;
        if (text.empty() || text.find_first_not_of(text[0]) != std::string::npos || text[0] < '0' ||
            text[0] >= '0' + kSenderThreads) {
          bad_messages.fetch_add(1);
          continue;
        }
        counts[text[0] - '0'].fetch_add(1);
      }
    });
  }
  std::vector<std::thread> senders;
  for (int thread = 0; thread < kSenderThreads; ++thread) {
    senders.emplace_back([&sender, &bad_messages, thread] {
      for (int i = 0; i < kMessagesPerSender; ++i) {
        std::string text(1 + (i * 37 + thread * 11) % 8000, static_cast<char>('0' + thread));
        if (!SendText(*sender, text, {}, WithinSeconds(60)).ok()) bad_messages.fetch_add(1);
      }
    });
  }
  for (std::thread& t : senders) t.join();
  { ConnectedSocket closing = *std::move(sender); }
  for (std::thread& t : receivers) t.join();

  EXPECT_EQ(bad_messages.load(), 0);
  for (int thread = 0; thread < kSenderThreads; ++thread) {
    EXPECT_EQ(counts[thread].load(), kMessagesPerSender) << thread;
  }
}

// One closer thread sends "last" and closes on pair after pair, while a receiver thread spins
// receiving on the same pair; returns how many receives did not get "last" and the first error.
std::pair<int, std::string> RaceLastMessagesWithClose(int pairs) {
  std::vector<ConnectedSocket> senders;
  std::vector<ConnectedSocket> receivers;
  for (int i = 0; i < pairs; ++i) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
      return {pairs, "socketpair"};
    base::UniqueFd second(fds[1]);
    absl::StatusOr<ConnectedSocket> sender =
        ConnectedSocket::FromHostSocket(base::UniqueFd(fds[0]));
    absl::StatusOr<ConnectedSocket> receiver = ConnectedSocket::FromHostSocket(std::move(second));
    if (!sender.ok() || !receiver.ok()) return {pairs, "FromHostSocket"};
    senders.push_back(*std::move(sender));
    receivers.push_back(*std::move(receiver));
  }
  std::thread closer([&senders] {
    for (ConnectedSocket& sender : senders) {
      (void)SendText(sender, "last");
      ConnectedSocket closing = std::move(sender);
    }
  });
  int lost = 0;
  std::string first_error;
  for (const ConnectedSocket& receiver : receivers) {
    absl::StatusOr<TextMessage> received;
    do {
      received = ReceiveText(receiver, 16, 0, Nonblocking());
    } while (base::ErrnoOf(received.status()) == EAGAIN);
    if (!received.ok() || received->text != "last") {
      if (lost++ == 0) first_error = received.status().ToString();
    }
  }
  closer.join();
  return {lost, first_error};
}

// Test that a message sent just before the peer closes is received, never mistaken for end of
// stream or for a malformed empty packet, when the close races with a receive under way (the
// kernel may find the queue empty, then see the close and answer end of file, with the last
// packet arriving in between). Several racing pairs of threads at once give the close many
// chances to land inside a receive.
TEST(ConcurrencyTest, LastMessageRacingWithCloseIsReceived) {
  constexpr int kRacers = 4;
  constexpr int kRounds = 5;
  constexpr int kPairsPerRound = 500;
  std::mutex mutex;
  int lost = 0;
  std::string first_error;
  std::vector<std::thread> racers;
  for (int racer = 0; racer < kRacers; ++racer) {
    racers.emplace_back([&] {
      for (int round = 0; round < kRounds; ++round) {
        std::pair<int, std::string> result = RaceLastMessagesWithClose(kPairsPerRound);
        std::lock_guard<std::mutex> lock(mutex);
        if (result.first > 0 && lost == 0) first_error = result.second;
        lost += result.first;
      }
    });
  }
  for (std::thread& racer : racers) racer.join();
  EXPECT_EQ(lost, 0) << "first: " << first_error;
}

// Test that a connector that queued many requests and then reads each connection's answer gets
// every answer, while an acceptor process answers and closes connection after connection: the
// acceptor's close follows its answer closely, so it often lands while the connector's receive
// is under way.
TEST(ConcurrencyTest, AnswerThenCloseRacingWithReceiveIsReceived) {
  constexpr int kConnections = 5000;
  absl::StatusOr<std::pair<BoundSocket, SocketAddress>> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  absl::StatusOr<ForkedChild> acceptor =
      ForkedChild::Start([&bound_socket = bound_socket]() -> int {
        for (int i = 0; i < kConnections; ++i) {
          absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(60));
          CHILD_CHECK_OK(accepted);
          absl::StatusOr<TextMessage> id = ReceiveText(*accepted, 64, 0, WithinSeconds(60));
          CHILD_CHECK_OK(id);
          CHILD_CHECK_OK(SendText(*accepted, "answer " + id->text));
        }
        return 0;
      });
  ASSERT_OK(acceptor);
  { BoundSocket closing = std::move(bound_socket); }
  std::vector<ConnectedSocket> connections;
  for (int i = 0; i < kConnections; ++i) {
    absl::StatusOr<ConnectedSocket> connection = address.Connect({false, WithinSeconds(60)});
    ASSERT_OK(connection);
    ASSERT_OK(SendText(*connection, absl::StrCat(i)));
    connections.push_back(*std::move(connection));
  }
  int lost = 0;
  std::string first_error;
  for (int i = 0; i < kConnections; ++i) {
    absl::StatusOr<TextMessage> answer = ReceiveText(connections[i], 64, 0, WithinSeconds(60));
    if (!answer.ok() || answer->text != absl::StrCat("answer ", i)) {
      if (lost++ == 0) first_error = absl::StrCat(i, ": ", answer.status().ToString());
    }
  }
  EXPECT_OK(acceptor->Wait());
  EXPECT_EQ(lost, 0) << "first: " << first_error;
}

// Test that a connection request sent just before the last address closes is accepted, never
// mistaken for end of stream or for a malformed request, when the close races with an Accept
// under way.
TEST(ConcurrencyTest, LastRequestRacingWithAddressCloseIsAccepted) {
  constexpr int kRounds = 20;
  constexpr int kSocketsPerRound = 500;
  int lost = 0;
  std::string first_error;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<BoundSocket> bound_sockets;
    std::vector<SocketAddress> addresses;
    for (int i = 0; i < kSocketsPerRound; ++i) {
      absl::StatusOr<std::pair<BoundSocket, SocketAddress>> bound = MakeBoundSocket();
      ASSERT_OK(bound);
      bound_sockets.push_back(std::move(bound->first));
      addresses.push_back(std::move(bound->second));
    }
    std::thread connector([&addresses] {
      for (SocketAddress& address : addresses) {
        EXPECT_OK(address.Connect());
        SocketAddress closing = std::move(address);
      }
    });
    for (const BoundSocket& bound_socket : bound_sockets) {
      absl::StatusOr<ConnectedSocket> accepted;
      do {
        accepted = bound_socket.Accept(Nonblocking());
      } while (base::ErrnoOf(accepted.status()) == EAGAIN);
      if (!accepted.ok() && lost++ == 0) first_error = accepted.status().ToString();
    }
    connector.join();
  }
  EXPECT_EQ(lost, 0) << "first: " << first_error;
}

}  // namespace
}  // namespace imc
