#include "sel_ldr/landlock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "base/unique_fd.h"
#include "gtest/gtest.h"

namespace sel_ldr {
namespace {

// An abstract AF_UNIX address, unique to this process and `tag`.
sockaddr_un AbstractAddress(const std::string& tag, socklen_t* length) {
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::string name = "sel_ldr_landlock_test." + std::to_string(getpid()) + "." + tag;
  memcpy(address.sun_path + 1, name.data(), name.size());  // sun_path[0] == 0: abstract.
  *length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return address;
}

base::UniqueFd BoundAt(int type, const sockaddr_un& address, socklen_t length) {
  base::UniqueFd fd(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) return {};
  if (type != SOCK_DGRAM && listen(fd.get(), 4) != 0) return {};
  return fd;
}

// What a process sees when it tries to reach outside: 0 if the call succeeded, else its errno.
struct Reach {
  int connect_abstract = -1;
  int send_to_abstract = -1;
  int signal_parent = -1;
  int connect_tcp = -1;
  int connect_own_abstract = -1;  // A name bound inside the same domain.
};

int Errno(int result) { return result == 0 ? 0 : errno; }

// Runs in a forked child: restricts itself (if `restrict`), then tries each reach.
Reach TryToReach(bool restrict, pid_t parent, const sockaddr_un& stream, socklen_t stream_length,
                 const sockaddr_un& dgram, socklen_t dgram_length, const sockaddr_in& tcp) {
  Reach reach;
  if (restrict) {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    base::UniqueFd ruleset = *CreateModuleRuleset();
    if (RestrictSelf(ruleset.get()) != 0) return reach;
  }
  base::UniqueFd s(socket(AF_UNIX, SOCK_STREAM, 0));
  reach.connect_abstract =
      Errno(connect(s.get(), reinterpret_cast<const sockaddr*>(&stream), stream_length));
  base::UniqueFd d(socket(AF_UNIX, SOCK_DGRAM, 0));
  reach.send_to_abstract =
      sendto(d.get(), "x", 1, 0, reinterpret_cast<const sockaddr*>(&dgram), dgram_length) == 1
          ? 0
          : errno;
  reach.signal_parent = Errno(kill(parent, 0));
  base::UniqueFd t(socket(AF_INET, SOCK_STREAM, 0));
  reach.connect_tcp = Errno(connect(t.get(), reinterpret_cast<const sockaddr*>(&tcp), sizeof(tcp)));
  socklen_t own_length;
  sockaddr_un own = AbstractAddress("own" + std::to_string(getpid()), &own_length);
  base::UniqueFd listener = BoundAt(SOCK_STREAM, own, own_length);
  base::UniqueFd c(socket(AF_UNIX, SOCK_STREAM, 0));
  reach.connect_own_abstract =
      Errno(connect(c.get(), reinterpret_cast<const sockaddr*>(&own), own_length));
  return reach;
}

// Forks a child that tries to reach this process's abstract sockets, a signal to it and a TCP
// listener of it, and returns what the child saw.
Reach ReachFromChild(bool restrict) {
  socklen_t stream_length, dgram_length;
  sockaddr_un stream = AbstractAddress("stream", &stream_length);
  sockaddr_un dgram = AbstractAddress("dgram", &dgram_length);
  base::UniqueFd stream_listener = BoundAt(SOCK_STREAM, stream, stream_length);
  base::UniqueFd dgram_socket = BoundAt(SOCK_DGRAM, dgram, dgram_length);
  base::UniqueFd tcp_listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in tcp = {};
  tcp.sin_family = AF_INET;
  tcp.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t tcp_length = sizeof(tcp);
  EXPECT_TRUE(stream_listener.valid() && dgram_socket.valid() && tcp_listener.valid());
  EXPECT_EQ(bind(tcp_listener.get(), reinterpret_cast<sockaddr*>(&tcp), sizeof(tcp)), 0);
  EXPECT_EQ(listen(tcp_listener.get(), 4), 0);
  EXPECT_EQ(getsockname(tcp_listener.get(), reinterpret_cast<sockaddr*>(&tcp), &tcp_length), 0);

  int report[2];
  EXPECT_EQ(pipe(report), 0);
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    close(report[0]);
    Reach reach = TryToReach(restrict, parent, stream, stream_length, dgram, dgram_length, tcp);
    _exit(write(report[1], &reach, sizeof(reach)) == sizeof(reach) ? 0 : 1);
  }
  close(report[1]);
  Reach reach;
  EXPECT_EQ(read(report[0], &reach, sizeof(reach)), static_cast<ssize_t>(sizeof(reach)));
  close(report[0]);
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return reach;
}

bool KernelScopes() { return LandlockAbiVersion() >= kLandlockScopeAbi; }

// Test that without the restriction the child reaches everything: the checks below are not
// vacuous.
TEST(LandlockTest, UnrestrictedChildReachesTheHost) {
  Reach reach = ReachFromChild(/*restrict=*/false);
  EXPECT_EQ(reach.connect_abstract, 0);
  EXPECT_EQ(reach.send_to_abstract, 0);
  EXPECT_EQ(reach.signal_parent, 0);
  EXPECT_EQ(reach.connect_tcp, 0);
  EXPECT_EQ(reach.connect_own_abstract, 0);
}

// Test that a restricted process reaches no abstract socket, signal or TCP port of the host,
// while names bound in its own domain still work (the scope is the domain, not AF_UNIX).
TEST(LandlockTest, RestrictedChildReachesNothingOutsideItsDomain) {
  if (!KernelScopes()) {
    GTEST_SKIP() << "Landlock ABI " << LandlockAbiVersion() << " < " << kLandlockScopeAbi
                 << ": sel_ldr uses a network namespace instead";
  }
  Reach reach = ReachFromChild(/*restrict=*/true);
  EXPECT_EQ(reach.connect_abstract, EPERM);
  EXPECT_EQ(reach.send_to_abstract, EPERM);
  EXPECT_EQ(reach.signal_parent, EPERM);
  EXPECT_EQ(reach.connect_tcp, EACCES);
  EXPECT_EQ(reach.connect_own_abstract, 0);
}

// Test that a kernel without the scope gets a clear Unavailable, not a weaker ruleset.
TEST(LandlockTest, RulesetNamesTheMissingAbi) {
  absl::StatusOr<base::UniqueFd> ruleset = CreateModuleRuleset();
  if (KernelScopes()) {
    ASSERT_TRUE(ruleset.ok()) << ruleset.status();
    EXPECT_TRUE(ruleset->valid());
  } else {
    EXPECT_TRUE(absl::IsUnavailable(ruleset.status()));
    EXPECT_NE(ruleset.status().message().find("Landlock ABI"), std::string::npos);
  }
}

}  // namespace
}  // namespace sel_ldr
