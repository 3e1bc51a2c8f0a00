#include "sel_ldr/policy.h"

#include <errno.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace sel_ldr {
namespace {

// The kernel's BPF_MAXINSNS, which sandbox.cc checks too.
constexpr size_t kMaxProgram = 4096;

seccomp_data Call(int nr, uint64_t arg0 = 0) {
  seccomp_data call = {};
  call.nr = nr;
  call.args[0] = arg0;
  return call;
}

// Test that the program fits the kernel's limit with either way of answering unserved calls.
TEST(PolicyTest, ProgramFitsTheKernelLimit) {
  for (bool in_filter : {false, true}) {
    PolicyOptions options;
    options.answer_unserved_in_filter = in_filter;
    absl::StatusOr<std::vector<sock_filter>> program = BuildModulePolicy(getpid(), options);
    ASSERT_TRUE(program.ok()) << program.status();
    EXPECT_LT(program->size(), kMaxProgram / 2) << "in_filter=" << in_filter;
    RecordProperty(in_filter ? "instructions_quiet" : "instructions", program->size());
  }
}

// Test that the supervisor's answers follow the classes: fatal calls have none, paths
// EACCES, host administration EPERM, everything else ENOSYS.
TEST(PolicyTest, AnswerOfFollowsTheClasses) {
  EXPECT_FALSE(AnswerOf(Call(SYS_socket)).has_value());
  EXPECT_FALSE(AnswerOf(Call(SYS_ptrace)).has_value());
  EXPECT_FALSE(AnswerOf(Call(SYS_execve)).has_value());
  EXPECT_FALSE(AnswerOf(Call(SYS_clone, CLONE_NEWUSER)).has_value());
  EXPECT_FALSE(AnswerOf(Call(SYS_unshare, CLONE_NEWNET)).has_value());
  EXPECT_FALSE(AnswerOf(Call(SYS_prctl, 22)).has_value());  // PR_SET_SECCOMP.
  EXPECT_FALSE(AnswerOf(Call(SYS_kill, 1)).has_value());
  EXPECT_EQ(AnswerOf(Call(SYS_clone, SIGCHLD)), ENOSYS);
  EXPECT_EQ(AnswerOf(Call(SYS_unshare, CLONE_FILES)), ENOSYS);
  EXPECT_EQ(AnswerOf(Call(SYS_openat)), EACCES);
  EXPECT_EQ(AnswerOf(Call(SYS_mkdir)), EACCES);
  EXPECT_EQ(AnswerOf(Call(SYS_setuid)), EPERM);
  EXPECT_EQ(AnswerOf(Call(SYS_fcntl)), ENOSYS);
  EXPECT_EQ(AnswerOf(Call(400)), ENOSYS);
}

}  // namespace
}  // namespace sel_ldr
