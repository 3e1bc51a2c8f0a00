// Tests of the module's seccomp policy: the classic-BPF program sel_ldr loads (ModulePolicy,
// prebuilt from GenerateModulePolicy) is run by a small interpreter on synthetic seccomp_data, and must decide as policy.h says for
// a table of calls. To follow a change of policy, edit the table.
#include "sel_ldr/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sel_ldr/prebuilt_policy.h"

namespace sel_ldr {
namespace {

constexpr pid_t kModulePid = 4321;

// Runs classic BPF `program` on `data` as the kernel's seccomp does (seccomp_check_filter
// allows loads of the data words, scratch memory, ALU, jumps and returns). Returns the
// program's answer, or an explanation through `error`.
uint32_t RunBpf(const std::vector<sock_filter>& program, const seccomp_data& data,
                std::string* error) {
  uint32_t a = 0;
  uint32_t x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& insn = program[pc];
    const uint32_t k = insn.k;
    switch (BPF_CLASS(insn.code)) {
      case BPF_LD:
      case BPF_LDX: {
        uint32_t value = 0;
        switch (BPF_MODE(insn.code)) {
          case BPF_ABS:
            if (BPF_SIZE(insn.code) != BPF_W || k % 4 != 0 || k + 4 > sizeof(data)) {
              *error = absl::StrCat("bad load at ", pc);
              return 0;
            }
            memcpy(&value, reinterpret_cast<const char*>(&data) + k, 4);
            break;
          case BPF_IMM:
            value = k;
            break;
          case BPF_MEM:
            value = mem[k % BPF_MEMWORDS];
            break;
          case BPF_LEN:
            value = sizeof(data);
            break;
          default:
            *error = absl::StrCat("bad load mode at ", pc);
            return 0;
        }
        (BPF_CLASS(insn.code) == BPF_LD ? a : x) = value;
        break;
      }
      case BPF_ST:
        mem[k % BPF_MEMWORDS] = a;
        break;
      case BPF_STX:
        mem[k % BPF_MEMWORDS] = x;
        break;
      case BPF_ALU: {
        const uint32_t operand = BPF_SRC(insn.code) == BPF_X ? x : k;
        switch (BPF_OP(insn.code)) {
          case BPF_ADD:
            a += operand;
            break;
          case BPF_SUB:
            a -= operand;
            break;
          case BPF_MUL:
            a *= operand;
            break;
          case BPF_DIV:
            if (operand == 0) return 0;
            a /= operand;
            break;
          case BPF_OR:
            a |= operand;
            break;
          case BPF_AND:
            a &= operand;
            break;
          case BPF_LSH:
            a <<= operand;
            break;
          case BPF_RSH:
            a >>= operand;
            break;
          case BPF_NEG:
            a = -a;
            break;
          default:
            *error = absl::StrCat("bad ALU op at ", pc);
            return 0;
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(insn.code) == BPF_JA) {
          pc += k;
          break;
        }
        const uint32_t operand = BPF_SRC(insn.code) == BPF_X ? x : k;
        bool taken = false;
        switch (BPF_OP(insn.code)) {
          case BPF_JEQ:
            taken = a == operand;
            break;
          case BPF_JGT:
            taken = a > operand;
            break;
          case BPF_JGE:
            taken = a >= operand;
            break;
          case BPF_JSET:
            taken = (a & operand) != 0;
            break;
          default:
            *error = absl::StrCat("bad jump at ", pc);
            return 0;
        }
        pc += taken ? insn.jt : insn.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(insn.code) == BPF_A ? a : k;
      case BPF_MISC:
        if (BPF_MISCOP(insn.code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
    }
  }
  *error = "ran off the end of the program";
  return 0;
}

constexpr uint32_t Allow() { return SECCOMP_RET_ALLOW; }
constexpr uint32_t Errno(int e) { return SECCOMP_RET_ERRNO | (e & SECCOMP_RET_DATA); }
constexpr uint32_t Notify() { return SECCOMP_RET_USER_NOTIF; }
constexpr uint32_t KillProcess() { return SECCOMP_RET_KILL_PROCESS; }

std::string ActionName(uint32_t action) {
  switch (action & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW:
      return "ALLOW";
    case SECCOMP_RET_ERRNO:
      return absl::StrCat("ERRNO(", action & SECCOMP_RET_DATA, ")");
    case SECCOMP_RET_USER_NOTIF:
      return "NOTIFY";
    case SECCOMP_RET_KILL_PROCESS:
      return "KILL_PROCESS";
    case SECCOMP_RET_KILL_THREAD:
      return "KILL_THREAD";
    case SECCOMP_RET_TRAP:
      return "TRAP";
    default:
      return absl::StrCat("action ", action);
  }
}

constexpr uint64_t kThreadCloneFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                       CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                                       CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
constexpr uint32_t kX32Bit = 0x40000000;
constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(int64_t{AT_FDCWD});

struct PolicyCase {
  const char* what;
  int nr;
  std::vector<uint64_t> args;
  uint32_t expected;
  uint32_t arch = AUDIT_ARCH_X86_64;
};

// The table: what the policy answers for each call. Calls the module may make itself are
// allowed; host queries get an errno; everything else (descriptor calls the supervisor
// serves, exec, other processes) goes to the supervisor.
const std::vector<PolicyCase>& Cases() {
  static const auto* const cases = new std::vector<PolicyCase>{
      // Allowed: the module's own memory, threads, clocks, identity.
      {"brk", SYS_brk, {0}, Allow()},
      {"anonymous mmap",
       SYS_mmap,
       {0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, ~0ull, 0},
       Allow()},
      {"file mmap goes to the supervisor",
       SYS_mmap,
       {0, 4096, PROT_READ, MAP_SHARED, 5, 0},
       Notify()},
      {"munmap", SYS_munmap, {0x10000, 4096}, Allow()},
      {"mprotect", SYS_mprotect, {0x10000, 4096, PROT_READ | PROT_EXEC}, Allow()},
      {"getpid", SYS_getpid, {}, Allow()},
      {"gettid", SYS_gettid, {}, Allow()},
      {"getrandom", SYS_getrandom, {0, 16, 0}, Allow()},
      {"exit_group", SYS_exit_group, {0}, Allow()},
      {"clock_gettime(CLOCK_MONOTONIC)", SYS_clock_gettime, {CLOCK_MONOTONIC, 0}, Allow()},
      {"clock_gettime of a pid's CPU clock", SYS_clock_gettime, {~uint64_t{1}, 0}, Errno(EINVAL)},
      {"prlimit64 read of own limits", SYS_prlimit64, {0, RLIMIT_NOFILE, 0, 0x1000}, Allow()},
      {"prlimit64 set", SYS_prlimit64, {0, RLIMIT_NOFILE, 0x1000, 0}, Errno(EPERM)},
      {"prlimit64 of another pid", SYS_prlimit64, {1, RLIMIT_NOFILE, 0, 0x1000}, Errno(ESRCH)},
      {"sched_getaffinity of self", SYS_sched_getaffinity, {0, 128, 0x1000}, Allow()},
      {"sched_getaffinity of another pid", SYS_sched_getaffinity, {1, 128, 0x1000}, Errno(ESRCH)},
      // clone: threads only.
      // Threads are counted by the supervisor (--max-threads).
      {"clone of a thread", SYS_clone, {kThreadCloneFlags, 0x1000, 0, 0, 0}, Notify()},
      {"clone of a process (fork)", SYS_clone, {SIGCHLD, 0, 0, 0, 0}, Notify()},
      {"clone of a thread in a new namespace",
       SYS_clone,
       {kThreadCloneFlags | CLONE_NEWUSER, 0x1000, 0, 0, 0},
       Notify()},
      {"clone of a thread with CLONE_VFORK",
       SYS_clone,
       {kThreadCloneFlags | CLONE_VFORK, 0x1000, 0, 0, 0},
       Notify()},
      {"clone3", SYS_clone3, {0x1000, 88}, Errno(ENOSYS)},
      // Signals: only to the module itself.
      {"kill of self", SYS_kill, {kModulePid, SIGUSR1}, Allow()},
      {"kill of another pid", SYS_kill, {1, SIGKILL}, Notify()},
      {"kill of the process group", SYS_kill, {0, SIGKILL}, Notify()},
      {"kill of every process", SYS_kill, {~uint64_t{0}, SIGKILL}, Notify()},
      {"tgkill of own thread", SYS_tgkill, {kModulePid, kModulePid + 1, SIGUSR1}, Allow()},
      {"tgkill of another process", SYS_tgkill, {1, 1, SIGKILL}, Notify()},
      {"rt_sigaction", SYS_rt_sigaction, {SIGUSR1, 0, 0, 8}, Allow()},
      // futex: without priority inheritance; PI answered ENOSYS, unknown commands go on.
      {"futex wait", SYS_futex, {0x1000, FUTEX_WAIT_PRIVATE, 0, 0}, Allow()},
      {"futex wake, shared", SYS_futex, {0x1000, FUTEX_WAKE, 1}, Allow()},
      {"futex wait bitset, realtime clock",
       SYS_futex,
       {0x1000, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, 0, 0, ~0u},
       Allow()},
      {"futex lock PI", SYS_futex, {0x1000, FUTEX_LOCK_PI, 0, 0}, Errno(ENOSYS)},
      {"futex lock PI, private", SYS_futex, {0x1000, FUTEX_LOCK_PI_PRIVATE, 0, 0}, Errno(ENOSYS)},
      {"futex unlock PI", SYS_futex, {0x1000, FUTEX_UNLOCK_PI}, Errno(ENOSYS)},
      {"futex lock PI2", SYS_futex, {0x1000, 13}, Errno(ENOSYS)},
      {"futex cmp requeue PI", SYS_futex, {0x1000, FUTEX_CMP_REQUEUE_PI}, Errno(ENOSYS)},
      {"futex with an unknown command", SYS_futex, {0x1000, 14}, Notify()},
      {"futex command in the high bits",
       SYS_futex,
       {0x1000, uint64_t{1} << 40 | FUTEX_WAIT},
       Allow()},  // The kernel reads the op as an int: FUTEX_WAIT.
      // Host queries: answered in the filter.
      {"getppid", SYS_getppid, {}, Errno(0)},
      {"uname", SYS_uname, {0x1000}, Errno(ENOSYS)},
      // Paths go to the supervisor: EACCES, or served beneath -m DIR.
      {"openat read-only", SYS_openat, {kAtFdcwd, 0x1000, O_RDONLY}, Notify()},
      {"openat for writing", SYS_openat, {kAtFdcwd, 0x1000, O_WRONLY | O_CREAT}, Notify()},
      {"access", SYS_access, {0x1000, 0}, Notify()},
      {"ioctl", SYS_ioctl, {1, 0x5401, 0x1000}, Errno(ENOTTY)},
      // The supervisor: descriptor calls, exec, and whatever else.
      {"read", SYS_read, {0, 0x1000, 16}, Notify()},
      {"write", SYS_write, {1, 0x1000, 16}, Notify()},
      {"close", SYS_close, {3}, Notify()},
      {"execve", SYS_execve, {0x1000, 0x2000, 0x3000}, Notify()},
      {"execveat", SYS_execveat, {kAtFdcwd, 0x1000, 0x2000, 0x3000, 0}, Notify()},
      {"socket", SYS_socket, {AF_INET, 1, 0}, Notify()},
      {"ptrace", SYS_ptrace, {16, 1, 0, 0}, Notify()},
      {"an unknown number", 1000, {}, Notify()},
      // Foreign ABIs die in the filter.
      {"i386 exit via int 0x80", 1, {0}, KillProcess(), AUDIT_ARCH_I386},
      {"i386 getpid", 20, {}, KillProcess(), AUDIT_ARCH_I386},
      {"x32 getpid", static_cast<int>(kX32Bit | SYS_getpid), {}, KillProcess()},
      {"x32 write", static_cast<int>(kX32Bit | SYS_write), {1, 0, 0}, KillProcess()},
      {"an unknown arch", SYS_getpid, {}, KillProcess(), 0x12345678},
  };
  return *cases;
}

// Test that the exported BPF decides every call of the table as documented.
TEST(PolicyTest, DecidesAsDocumented) {
  absl::StatusOr<std::vector<sock_filter>> program = ModulePolicy(kModulePid);
  ASSERT_TRUE(program.ok()) << program.status();
  ASSERT_LE(program->size(), size_t{BPF_MAXINSNS});
  for (const PolicyCase& c : Cases()) {
    seccomp_data data;
    memset(&data, 0, sizeof(data));
    data.nr = c.nr;
    data.arch = c.arch;
    data.instruction_pointer = 0x401000;
    for (size_t i = 0; i < c.args.size() && i < 6; ++i) data.args[i] = c.args[i];
    std::string error;
    const uint32_t action = RunBpf(*program, data, &error);
    ASSERT_EQ(error, "") << c.what;
    EXPECT_EQ(ActionName(action), ActionName(c.expected)) << c.what;
  }
}

// Test that the interpreter itself is not trivially agreeable: a program that allows only
// getpid answers as written.
TEST(PolicyTest, InterpreterRunsAProgram) {
  const std::vector<sock_filter> program = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
  };
  seccomp_data data;
  memset(&data, 0, sizeof(data));
  std::string error;
  data.nr = SYS_getpid;
  EXPECT_EQ(RunBpf(program, data, &error), SECCOMP_RET_ALLOW);
  data.nr = SYS_read;
  EXPECT_EQ(RunBpf(program, data, &error), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(error, "");
}

// Test that the pid in the rules is the one given: another module pid may not be signalled.
TEST(PolicyTest, SelfIsTheGivenPid) {
  absl::StatusOr<std::vector<sock_filter>> program = ModulePolicy(kModulePid + 7);
  ASSERT_TRUE(program.ok()) << program.status();
  seccomp_data data;
  memset(&data, 0, sizeof(data));
  data.arch = AUDIT_ARCH_X86_64;
  data.nr = SYS_kill;
  data.args[0] = kModulePid;
  std::string error;
  EXPECT_EQ(ActionName(RunBpf(*program, data, &error)), ActionName(Notify()));
  data.args[0] = kModulePid + 7;
  EXPECT_EQ(ActionName(RunBpf(*program, data, &error)), ActionName(Allow()));
}

// Test that SyscallName names x86-64 numbers and makes up a name for others.
TEST(PolicyTest, SyscallName) {
  EXPECT_EQ(SyscallName(SYS_openat), "openat");
  EXPECT_EQ(SyscallName(-1), "syscall_-1");
  EXPECT_EQ(SyscallName(100000), "syscall_100000");
}

// The kernel's BPF_MAXINSNS, which sandbox.cc checks too.
constexpr size_t kMaxProgram = 4096;

seccomp_data Syscall(int nr, uint64_t arg0 = 0) {
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
    absl::StatusOr<std::vector<sock_filter>> program = ModulePolicy(getpid(), options);
    ASSERT_TRUE(program.ok()) << program.status();
    EXPECT_LT(program->size(), kMaxProgram / 2) << "in_filter=" << in_filter;
    RecordProperty(in_filter ? "instructions_quiet" : "instructions", program->size());
  }
}

// Test that the supervisor's answers follow the classes: fatal calls have none, paths
// EACCES, host administration EPERM, everything else ENOSYS.
TEST(PolicyTest, AnswerOfFollowsTheClasses) {
  EXPECT_FALSE(AnswerOf(Syscall(SYS_socket)).has_value());
  EXPECT_FALSE(AnswerOf(Syscall(SYS_ptrace)).has_value());
  EXPECT_FALSE(AnswerOf(Syscall(SYS_execve)).has_value());
  EXPECT_FALSE(AnswerOf(Syscall(SYS_clone, CLONE_NEWUSER)).has_value());
  EXPECT_FALSE(AnswerOf(Syscall(SYS_unshare, CLONE_NEWNET)).has_value());
  EXPECT_FALSE(AnswerOf(Syscall(SYS_prctl, 22)).has_value());  // PR_SET_SECCOMP.
  EXPECT_FALSE(AnswerOf(Syscall(SYS_kill, 1)).has_value());
  EXPECT_EQ(AnswerOf(Syscall(SYS_clone, SIGCHLD)), ENOSYS);
  EXPECT_EQ(AnswerOf(Syscall(SYS_unshare, CLONE_FILES)), ENOSYS);
  EXPECT_EQ(AnswerOf(Syscall(SYS_openat)), EACCES);
  EXPECT_EQ(AnswerOf(Syscall(SYS_mkdir)), EACCES);
  EXPECT_EQ(AnswerOf(Syscall(SYS_setuid)), EPERM);
  EXPECT_EQ(AnswerOf(Syscall(SYS_fcntl)), ENOSYS);
  EXPECT_EQ(AnswerOf(Syscall(400)), ENOSYS);
}

}  // namespace
}  // namespace sel_ldr
