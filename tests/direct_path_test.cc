// End-to-end: the direct data path (docs/performance.md), tried and abused from inside a
// module (tests/modules/direct_path.c) whose descriptor 3 is a socket to this test. Data-only
// messages after the first trapped call go through the module's own sendto/recvfrom; every
// other use of those calls is a policy violation; receivers treat direct packets as any
// peer's; bad pointers still answer EFAULT; closing a socket a thread waits on behaves as
// documented; no fd reaches the module's process.
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/imc.h"
#include "imc/text_message.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr int kExitPolicyViolation = 159;

// A running direct_path module and this test's end of its descriptor 3.
struct Module {
  std::unique_ptr<SelLdrProcess> process;
  std::unique_ptr<imc::ConnectedSocket> socket;
};

absl::StatusOr<Module> Start(const std::string& name, const std::string& arg = "",
                             std::vector<std::string> flags = {}) {
  auto pair = MakeImcSocketPair();
  if (!pair.ok()) return pair.status();
  SelLdrCommand command;
  command.flags = std::move(flags);
  command.flags.push_back("-i");
  command.flags.push_back("3:3");
  command.module = ModulePath("direct_path");
  command.args = {name};
  if (!arg.empty()) command.args.push_back(arg);
  command.fds = {{3, pair->second.get()}};
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process = SelLdrProcess::Start(command);
  if (!process.ok()) return process.status();
  absl::StatusOr<imc::ConnectedSocket> socket =
      imc::ConnectedSocket::FromHostSocket(std::move(pair->first));
  if (!socket.ok()) return socket.status();
  Module module;
  module.process = *std::move(process);
  module.socket = std::make_unique<imc::ConnectedSocket>(*std::move(socket));
  return module;
}

// The next message's text (no descriptors), within 20 s.
absl::StatusOr<std::string> Receive(const imc::ConnectedSocket& socket) {
  absl::StatusOr<imc::TextMessage> received =
      imc::ReceiveText(socket, 256, 0, imc::WithinSeconds(20));
  if (!received.ok()) return received.status();
  return received->text;
}

// Starts `name`, takes its "ready", and waits for its end.
absl::StatusOr<SelLdrResult> RunToEnd(const std::string& name, const std::string& arg = "",
                                      std::vector<std::string> flags = {}) {
  absl::StatusOr<Module> module = Start(name, arg, std::move(flags));
  if (!module.ok()) return module.status();
  absl::StatusOr<std::string> ready = Receive(*module->socket);
  if (!ready.ok()) return ready.status();
  return module->process->Wait();
}

// Checks the module's CASE lines: `cases` of them, each with the errno it expected.
void ExpectCasesHold(const SelLdrResult& result, size_t cases) {
  const std::vector<CaseReport> reports = CaseReports(result.out);
  for (const CaseReport& report : reports) EXPECT_EQ(report.actual, report.expected) << report.name;
  EXPECT_EQ(reports.size(), cases) << result.Describe();
}

// Test that after the first trapped call, messages go without a trap both ways and arrive
// whole: with -v, sel_ldr traces only the first imc call on descriptor 3.
TEST(DirectPathTest, MessagesAfterTheFirstAreNotTrapped) {
  absl::StatusOr<Module> module = Start("echo", "200", {"-v"});
  ASSERT_TRUE(module.ok()) << module.status();
  ASSERT_EQ(*Receive(*module->socket), "ready");
  for (int i = 0; i < 200; ++i) {
    const std::string message = absl::StrCat("message ", i, std::string(i % 97, 'x'));
    ASSERT_TRUE(imc::SendText(*module->socket, message).ok());
    absl::StatusOr<std::string> echoed = Receive(*module->socket);
    ASSERT_TRUE(echoed.ok()) << echoed.status();
    ASSERT_EQ(*echoed, message);
  }
  absl::StatusOr<SelLdrResult> result = module->process->Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  int trapped = 0;
  for (const std::string& line : Lines(result->err)) {
    if (absl::StrContains(line, "imc_sendmsg(0x3") || absl::StrContains(line, "imc_recvmsg(0x3")) {
      ++trapped;
    }
  }
  EXPECT_EQ(trapped, 1) << result->err;
}

struct ViolationCase {
  const char* name;  // direct_path's case.
  const char* arg;
  const char* call;  // What sel_ldr reports.
};

class DirectPathViolationTest : public ::testing::TestWithParam<ViolationCase> {};

// Test that every use of sendto, recvfrom, sendmsg and recvmsg beyond the SDK's (a control
// message, another flag, an address) kills the module, with and without -q, and that no fd
// reached this end of the socket.
TEST_P(DirectPathViolationTest, KillsTheModule) {
  const int fds_before = base::CountOpenFds();
  for (bool quiet : {false, true}) {
    const ViolationCase& c = GetParam();
    absl::StatusOr<Module> module =
        Start(c.name, c.arg, quiet ? std::vector<std::string>{"-q"} : std::vector<std::string>{});
    ASSERT_TRUE(module.ok()) << module.status();
    ASSERT_EQ(*Receive(*module->socket), "ready");
    absl::StatusOr<SelLdrResult> result = module->process->Wait();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_status, kExitPolicyViolation) << result->Describe();
    EXPECT_THAT(result->err, HasSubstr(absl::StrCat("policy violation: ", c.call)))
        << result->Describe();
    // Nothing more came: the peer closed, no message, no fd.
    char buffer[64];
    char control[256];
    iovec iov = {buffer, sizeof(buffer)};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    EXPECT_EQ(recvmsg(module->socket->fd(), &msg, MSG_DONTWAIT), 0);
    EXPECT_EQ(msg.msg_controllen, 0u);
  }
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

INSTANTIATE_TEST_SUITE_P(
    Calls, DirectPathViolationTest,
    ::testing::Values(ViolationCase{"raw_sendmsg", "", "sendmsg (46)"},
                      ViolationCase{"raw_recvmsg", "", "recvmsg (47)"},
                      // sendto: MSG_NOSIGNAL missing; MSG_OOB, MSG_DONTROUTE, MSG_EOR, MSG_CONFIRM,
                      // MSG_MORE, MSG_ZEROCOPY, MSG_FASTOPEN; a high bit; an address.
                      ViolationCase{"sendto_flags", "0", "sendto (44)"},
                      ViolationCase{"sendto_flags", "4001", "sendto (44)"},
                      ViolationCase{"sendto_flags", "4004", "sendto (44)"},
                      ViolationCase{"sendto_flags", "4080", "sendto (44)"},
                      ViolationCase{"sendto_flags", "4800", "sendto (44)"},
                      ViolationCase{"sendto_flags", "c000", "sendto (44)"},
                      ViolationCase{"sendto_flags", "4004000", "sendto (44)"},
                      ViolationCase{"sendto_flags", "20004000", "sendto (44)"},
                      ViolationCase{"sendto_flags", "10000004000", "sendto (44)"},
                      ViolationCase{"sendto_flags", "addr4000", "sendto (44)"},
                      // recvfrom: MSG_PEEK, MSG_OOB, MSG_WAITALL, MSG_ERRQUEUE, MSG_CMSG_CLOEXEC; a
                      // high bit; an address.
                      ViolationCase{"recvfrom_flags", "2", "recvfrom (45)"},
                      ViolationCase{"recvfrom_flags", "1", "recvfrom (45)"},
                      ViolationCase{"recvfrom_flags", "100", "recvfrom (45)"},
                      ViolationCase{"recvfrom_flags", "2000", "recvfrom (45)"},
                      ViolationCase{"recvfrom_flags", "40000000", "recvfrom (45)"},
                      ViolationCase{"recvfrom_flags", "10000000040", "recvfrom (45)"},
                      ViolationCase{"recvfrom_flags", "addr40", "recvfrom (45)"}),
    [](const ::testing::TestParamInfo<ViolationCase>& info) {
      return absl::StrCat(info.param.name, "_", info.param.arg);
    });

// Test that the flags the SDK uses are allowed: a send arrives, a receive with nothing
// queued answers EAGAIN.
TEST(DirectPathTest, TheSdksFlagsAreAllowed) {
  absl::StatusOr<Module> module = Start("sendto_flags", "4040");
  ASSERT_TRUE(module.ok()) << module.status();
  ASSERT_EQ(*Receive(*module->socket), "ready");
  absl::StatusOr<SelLdrResult> result = module->process->Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), Contains("sendto: ok"));

  for (const char* flags : {"40", "60"}) {
    absl::StatusOr<SelLdrResult> received = RunToEnd("recvfrom_flags", flags);
    ASSERT_TRUE(received.ok()) << received.status();
    EXPECT_EQ(received->exit_status, 0) << received->Describe();
    EXPECT_THAT(Lines(received->out), Contains("recvfrom: EAGAIN")) << received->Describe();
  }
}

// Test that packets whose headers lie, sent directly by a module, reach an embedder as a
// hostile peer's would: each is refused (EPROTO) or skipped, the honest message after them
// arrives, and no fd is left behind.
TEST(DirectPathTest, LyingHeadersAreRefusedByTheEmbedder) {
  const int fds_before = base::CountOpenFds();
  {
    absl::StatusOr<Module> module = Start("lie");
    ASSERT_TRUE(module.ok()) << module.status();
    ASSERT_EQ(*Receive(*module->socket), "ready");
    int refused = 0;
    for (;;) {
      absl::StatusOr<std::string> received = Receive(*module->socket);
      if (received.ok()) {
        EXPECT_EQ(*received, "honest");
        break;
      }
      ASSERT_EQ(base::ErrnoOf(received.status()), EPROTO) << received.status();
      ++refused;
      ASSERT_LE(refused, 9);
    }
    EXPECT_EQ(refused, 8);  // The acknowledgement is skipped, not refused.
    absl::StatusOr<SelLdrResult> result = module->process->Wait();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_status, 0) << result->Describe();
  }
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

// A raw packet with the given header fields, `fds` attached.
void SendRaw(int socket, uint8_t version, uint8_t kind, uint8_t count, uint8_t flags,
             uint32_t bytes, size_t size, const std::vector<int>& fds = {}) {
  imc::WireHeader header = {};
  header.version = version;
  header.packet_kind = kind;
  header.descriptor_count = count;
  header.flags = flags;
  header.byte_count = bytes;
  for (size_t i = 0; i < count && i < imc::kMaxDescriptors; ++i) {
    header.tags[i] = static_cast<uint8_t>(imc::DescriptorKind::kSharedMemory);
  }
  char packet[64] = {};
  memcpy(packet, &header, sizeof(header));
  memcpy(packet + sizeof(header), "liedlied", 8);
  iovec iov = {packet, size};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  char control[CMSG_SPACE(8 * sizeof(int))] = {};
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
  }
  ASSERT_EQ(sendmsg(socket, &msg, MSG_NOSIGNAL), static_cast<ssize_t>(size)) << strerror(errno);
}

// Test that a module receiving directly handles a peer's lying headers as the loader would:
// malformed packets fail with EIO, an acknowledgement is skipped, a message whose
// descriptors it has no room for reports them truncated; the next message arrives.
TEST(DirectPathTest, LyingHeadersFromAPeerAreRefusedByTheSdk) {
  absl::StatusOr<Module> module = Start("receive", "8");
  ASSERT_TRUE(module.ok()) << module.status();
  ASSERT_EQ(*Receive(*module->socket), "ready");
  const int fd = module->socket->fd();
  SendRaw(fd, 1, 0, 0, 0, 8, 24);     // An old version.
  SendRaw(fd, 2, 1, 0, 0, 0, 16);     // An acknowledgement: skipped.
  SendRaw(fd, 2, 0, 3, 0, 8, 24);     // Three descriptors, no fds: truncated.
  SendRaw(fd, 2, 0, 0, 0, 100, 24);   // More bytes than the packet.
  SendRaw(fd, 2, 0, 0, 0, 2, 24);     // Fewer.
  SendRaw(fd, 2, 0, 0, 0x80, 8, 24);  // An unknown flag.
  SendRaw(fd, 2, 9, 0, 0, 8, 24);     // An unknown kind.
  SendRaw(fd, 2, 0, 0, 0, 0, 3);      // Shorter than a header.
  ASSERT_TRUE(imc::SendText(*module->socket, "honest").ok());
  ASSERT_EQ(*Receive(*module->socket), "done");
  absl::StatusOr<SelLdrResult> result = module->process->Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out),
              ElementsAre("direct_path: receive", "received: EIO", "received 8 'liedlied' flags 2",
                          "received: EIO", "received: EIO", "received: EIO", "received: EIO",
                          "received: EIO", "received 6 'honest' flags 0"));
}

// Test that fds a peer attaches to messages a module receives directly never enter the
// module's process (the kernel closes them), whatever the header says.
TEST(DirectPathTest, PeerFdsNeverReachTheModuleProcess) {
  const int fds_before = base::CountOpenFds();
  {
    absl::StatusOr<Module> module = Start("pid", "3");
    ASSERT_TRUE(module.ok()) << module.status();
    ASSERT_EQ(*Receive(*module->socket), "ready");
    absl::StatusOr<std::string> pid_text = Receive(*module->socket);
    ASSERT_TRUE(pid_text.ok()) << pid_text.status();
    const pid_t pid = std::stoi(*pid_text);
    const int module_fds = base::CountOpenFdsOf(pid);
    ASSERT_GT(module_fds, 0);
    auto memory = imc::SharedMemory::Create(4096);
    ASSERT_TRUE(memory.ok());
    const int fd = module->socket->fd();
    // Honest: one shared memory descriptor. Lying: fds with a header that says none. Many.
    SendRaw(fd, 2, 0, 1, 0, 8, 24, {memory->fd()});
    SendRaw(fd, 2, 0, 0, 0, 8, 24, {memory->fd(), memory->fd()});
    SendRaw(fd, 2, 0, 8, 0, 8, 24, std::vector<int>(8, memory->fd()));
    ASSERT_EQ(*Receive(*module->socket), "done");
    EXPECT_EQ(base::CountOpenFdsOf(pid), module_fds);
    ASSERT_TRUE(imc::SendText(*module->socket, "bye").ok());
    absl::StatusOr<SelLdrResult> result = module->process->Wait();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_status, 0) << result->Describe();
    EXPECT_THAT(Lines(result->out),
                ElementsAre("direct_path: pid", "received 8 'liedlied' flags 2",
                            "received 8 'liedlied' flags 0", "received 8 'liedlied' flags 2"));
  }
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

// Test that descriptors with no placed socket fail direct calls (ENOTSOCK, EBADF) and that
// imc calls on them answer what the loader answers.
TEST(DirectPathTest, NumbersWithoutASocketReachNothing) {
  absl::StatusOr<SelLdrResult> result = RunToEnd("not_a_socket");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  const std::vector<std::string> lines = Lines(result->out);
  for (const char* line : {"sendto shared memory: ENOTSOCK", "recvfrom shared memory: ENOTSOCK",
                           "sendto placeholder: ENOTSOCK", "sendto bound socket: ENOTSOCK",
                           "sendto address: EBADF", "sendto stdout: EBADF", "sendto 900: EBADF",
                           "sendto 100000: EBADF", "recvfrom 900: EBADF"}) {
    EXPECT_THAT(lines, Contains(line)) << result->Describe();
  }
  ExpectCasesHold(*result, 2);
}

// Test that bad pointers answer EFAULT on a placed socket too: the SDK asks the kernel
// before it touches memory, and traps when it may not.
TEST(DirectPathTest, BadPointersAnswerEfault) {
  absl::StatusOr<SelLdrResult> result = RunToEnd("bad_pointers");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  ExpectCasesHold(*result, 8);
}

// Test that a nonblocking descriptor (O_NONBLOCK, or NACL_ABI_IMC_NONBLOCK) answers EAGAIN
// at once on a placed socket, never waits.
TEST(DirectPathTest, NonblockingReceivesDoNotWait) {
  absl::StatusOr<Module> module = Start("nonblocking");
  ASSERT_TRUE(module.ok()) << module.status();
  ASSERT_EQ(*Receive(*module->socket), "ready");
  ASSERT_EQ(*Receive(*module->socket), "done");
  absl::StatusOr<SelLdrResult> result = module->process->Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  ExpectCasesHold(*result, 2);
}

class CloseBlockedTest : public ::testing::TestWithParam<const char*> {};

// Test that closing or replacing, in any way, the end of a module's own socketpair another
// thread waits on in a direct receive ends the wait (the loader shuts the socket down).
TEST_P(CloseBlockedTest, OwnPairEndsTheWait) {
  absl::StatusOr<SelLdrResult> result = RunToEnd("close_blocked_pair", GetParam());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  // The wait ends, then the receive goes to the loader: EBADF for a closed number; after
  // dup2 or dup3 the number names a HostIo descriptor (stdin), which answers EINVAL.
  const bool replaced = strncmp(GetParam(), "dup", 3) == 0;
  EXPECT_THAT(
      Lines(result->out),
      UnorderedElementsAre("direct_path: close_blocked_pair", absl::StrCat(GetParam(), ": ok"),
                           replaced ? "blocked receive: EINVAL" : "blocked receive: EBADF"));
}

INSTANTIATE_TEST_SUITE_P(Ways, CloseBlockedTest,
                         ::testing::Values("nacl_close", "close", "dup2", "dup3"));

// Test that closing a socket given with -i, which others may hold, lets the waiting thread
// wait on as in Native Client: it gets the peer's next message.
TEST(DirectPathTest, GrantedSocketWaitsForThePeer) {
  absl::StatusOr<Module> module = Start("close_blocked_granted", "nacl_close");
  ASSERT_TRUE(module.ok()) << module.status();
  ASSERT_EQ(*Receive(*module->socket), "ready");
  ASSERT_EQ(*module->process->ReadLine(), "direct_path: close_blocked_granted");
  ASSERT_EQ(*module->process->ReadLine(), "nacl_close: ok");
  ASSERT_TRUE(imc::SendText(*module->socket, "wake").ok());
  absl::StatusOr<SelLdrResult> result = module->process->Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("blocked receive: 4 'wake'"));
}

// Test that a receive through the loader that waited on a socket while dup2 put another one at
// its number does not place the old socket there when it ends: a direct message on the new
// pair arrives at the number.
TEST(DirectPathTest, ACallThatOutlivesItsSlotPlacesNothing) {
  absl::StatusOr<SelLdrResult> result = RunToEnd("stale_placement");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("direct_path: stale_placement",
                                              "blocked receive: old", "direct receive: new"));
}

// Test that placed numbers follow their slots while threads send and receive directly and
// another closes, recreates, dups and dup2s the descriptors under them: afterwards every pair
// the table holds carries a direct message from each end to the other.
TEST(DirectPathTest, NumbersFollowTheirSlotsUnderChurn) {
  absl::StatusOr<Module> module = Start("churn");
  ASSERT_TRUE(module.ok()) << module.status();
  ASSERT_EQ(*Receive(*module->socket), "ready");
  absl::StatusOr<SelLdrResult> result = module->process->Wait(absl::Seconds(60));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("direct_path: churn", "consistent 6"));
}

// Test that closing one of two slots of a socket leaves the wait on it alone.
TEST(DirectPathTest, DuplicatedSlotKeepsTheWait) {
  absl::StatusOr<SelLdrResult> result = RunToEnd("close_blocked_dup");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("direct_path: close_blocked_dup", "nacl_close: ok",
                                              "blocked receive: 4 'late'"));
}

}  // namespace
}  // namespace tests
