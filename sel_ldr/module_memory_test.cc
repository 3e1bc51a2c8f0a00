#include "sel_ldr/module_memory.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gtest/gtest.h"

namespace sel_ldr {
namespace {

// A page at the same address in this process and in a forked child.
char* MapPage(int prot) {
  void* page = mmap(nullptr, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return page == MAP_FAILED ? nullptr : static_cast<char*>(page);
}

void* SleepForever(void*) {
  for (;;) pause();
  return nullptr;
}

void ExitThread(int) { syscall(SYS_exit, 0); }

// Sleeps until SIGUSR1 (whose handler ends this thread alone).
void* ExitOnSignal(void*) { return SleepForever(nullptr); }

// A forked child that stands in for a module: it sleeps until killed. With
// `main_thread_exits`, a second thread sleeps while the main thread exits.
class Child {
 public:
  explicit Child(bool main_thread_exits = false, bool start_thread = false) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    base::UniqueFd read_end(fds[0]);
    base::UniqueFd write_end(fds[1]);
    pid_ = fork();
    if (pid_ == 0) {
      if (main_thread_exits || start_thread) {
        // Before the thread exists: a SIGUSR1 it got before installing a handler would end
        // the whole process.
        if (start_thread) signal(SIGUSR1, ExitThread);
        pthread_t thread;
        pthread_create(&thread, nullptr, start_thread ? ExitOnSignal : SleepForever, nullptr);
        // The new thread's tid, without waiting for it: it is the highest in /proc/self/task.
        pid_t tid = 0;
        for (int i = 0; i < 1000 && tid == 0; ++i) {
          tid = static_cast<pid_t>(pthread_gettid_np_fallback(thread));
        }
        (void)!write(write_end.get(), &tid, sizeof(tid));
        if (main_thread_exits) syscall(SYS_exit, 0);  // This thread only.
        SleepForever(nullptr);
      }
      const pid_t self = getpid();
      (void)!write(write_end.get(), &self, sizeof(self));
      SleepForever(nullptr);
    }
    write_end.reset();
    if (read(read_end.get(), &thread_, sizeof(thread_)) != sizeof(thread_)) thread_ = -1;
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  // With main_thread_exits, the thread that lives on.
  pid_t thread() const { return thread_; }
  // With start_thread, ends the second thread and waits until its tid is free.
  void EndThread() {
    syscall(SYS_tgkill, pid_, thread_, SIGUSR1);
    const std::string task = "/proc/" + std::to_string(pid_) + "/task/" + std::to_string(thread_);
    for (int i = 0; i < 5000 && access(task.c_str(), F_OK) == 0; ++i) usleep(1000);
  }

  // Kills the child without reaping it, as the supervisor finds a module that died.
  void KillUnreaped() {
    kill(pid_, SIGKILL);
    siginfo_t info;
    waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
  }

 private:
  // The kernel tid of `thread`: glibc 2.36 has no pthread_gettid_np, so the thread's own
  // struct is not read; the task list is.
  static long pthread_gettid_np_fallback(pthread_t) {
    pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
    for (pid_t candidate = self + 1; candidate < self + 64; ++candidate) {
      std::string path = "/proc/self/task/" + std::to_string(candidate);
      if (access(path.c_str(), F_OK) == 0) return candidate;
    }
    return 0;
  }

  pid_t pid_ = -1;
  pid_t thread_ = -1;
};

class ModuleMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = base::CountOpenFds(); }
  void TearDown() override {
    EXPECT_EQ(base::CountOpenFds(), fds_before_) << base::DescribeOpenFds();
  }

  static bool Live() { return true; }
  static bool Gone() { return false; }

 private:
  int fds_before_ = -1;
};

// Test that a call reads and writes the module's memory, not this process's copy.
TEST_F(ModuleMemoryTest, ReadsAndWritesTheModule) {
  char* page = MapPage(PROT_READ | PROT_WRITE);
  ASSERT_NE(page, nullptr);
  memcpy(page, "parent", 7);
  Child child;
  ASSERT_GT(child.thread(), 0);
  memcpy(page, "before", 7);  // Only this process's copy.
  ModuleMemory memory(child.pid());
  ModuleMemory::Call call(&memory, child.pid(), Live);
  char out[7] = {};
  ASSERT_TRUE(call.Read(reinterpret_cast<uintptr_t>(page), out, sizeof(out)));
  EXPECT_STREQ(out, "parent");
  ASSERT_TRUE(call.Write(reinterpret_cast<uintptr_t>(page), "module", 7));
  ASSERT_TRUE(call.Read(reinterpret_cast<uintptr_t>(page), out, sizeof(out)));
  EXPECT_STREQ(out, "module");
  EXPECT_STREQ(page, "before");
  munmap(page, 4096);
}

// Test that page protections hold: a read-only page is not written and a PROT_NONE page is
// not read (EFAULT for the module, as in Native Client).
TEST_F(ModuleMemoryTest, PageProtectionsHold) {
  char* read_only = MapPage(PROT_READ);
  char* no_access = MapPage(PROT_NONE);
  ASSERT_NE(read_only, nullptr);
  ASSERT_NE(no_access, nullptr);
  Child child;
  ModuleMemory memory(child.pid());
  ModuleMemory::Call call(&memory, child.pid(), Live);
  char byte = 'x';
  EXPECT_FALSE(call.Write(reinterpret_cast<uintptr_t>(read_only), &byte, 1));
  EXPECT_TRUE(call.Read(reinterpret_cast<uintptr_t>(read_only), &byte, 1));
  EXPECT_EQ(byte, 0);
  EXPECT_FALSE(call.Read(reinterpret_cast<uintptr_t>(no_access), &byte, 1));
  munmap(read_only, 4096);
  munmap(no_access, 4096);
}

// Test that once closed, nothing is read or written, and the module's memory is unchanged.
TEST_F(ModuleMemoryTest, ClosedMemoryIsNeitherReadNorWritten) {
  char* page = MapPage(PROT_READ | PROT_WRITE);
  ASSERT_NE(page, nullptr);
  memcpy(page, "intact", 7);
  Child child;
  ModuleMemory memory(child.pid());
  memory.Close();
  ModuleMemory::Call call(&memory, child.pid(), Live);
  char out[7] = {};
  EXPECT_FALSE(call.Write(reinterpret_cast<uintptr_t>(page), "broken", 7));
  EXPECT_FALSE(call.Read(reinterpret_cast<uintptr_t>(page), out, sizeof(out)));
  ModuleMemory other(child.pid());
  ModuleMemory::Call check(&other, child.pid(), Live);
  ASSERT_TRUE(check.Read(reinterpret_cast<uintptr_t>(page), out, sizeof(out)));
  EXPECT_STREQ(out, "intact");
  munmap(page, 4096);
}

// Test that after the module died (still unreaped, as the supervisor keeps it), a write
// lands nowhere and fails, whatever the calling thread's liveness check says.
TEST_F(ModuleMemoryTest, DeadModuleIsWrittenNowhere) {
  char* page = MapPage(PROT_READ | PROT_WRITE);
  ASSERT_NE(page, nullptr);
  Child child;
  child.KillUnreaped();
  ModuleMemory memory(child.pid());
  ModuleMemory::Call gone(&memory, child.pid(), Gone);
  EXPECT_FALSE(gone.Write(reinterpret_cast<uintptr_t>(page), "x", 1));
  ModuleMemory::Call live(&memory, child.pid(), Live);
  EXPECT_FALSE(live.Write(reinterpret_cast<uintptr_t>(page), "x", 1));
  munmap(page, 4096);
}

// Test that when the module's main thread has exited and another thread lives on, a call of
// that thread still reaches the module's memory (through its mem file), and that no file is
// opened for a thread whose call is no longer live (its tid may name another process).
TEST_F(ModuleMemoryTest, MainThreadGoneReachesMemoryThroughLiveThread) {
  char* page = MapPage(PROT_READ | PROT_WRITE);
  ASSERT_NE(page, nullptr);
  memcpy(page, "parent", 7);
  const int fds_before = base::CountOpenFds();
  {
    Child child(/*main_thread_exits=*/true);
    ASSERT_GT(child.thread(), 0);
    // Wait until the main thread is gone (its mm is released).
    ModuleMemory probe(child.pid());
    char out[7] = {};
    {
      ModuleMemory::Call gone(&probe, child.thread(), Gone);
      for (int i = 0; i < 1000 && gone.Read(reinterpret_cast<uintptr_t>(page), out, 1); ++i) {
        usleep(1000);
      }
      EXPECT_FALSE(gone.Read(reinterpret_cast<uintptr_t>(page), out, 1));
    }
    EXPECT_EQ(base::CountOpenFds(), fds_before) << "a mem file was opened for a dead call";
    ModuleMemory::Call live(&probe, child.thread(), Live);
    ASSERT_TRUE(live.Write(reinterpret_cast<uintptr_t>(page), "thread", 7));
    ASSERT_TRUE(live.Read(reinterpret_cast<uintptr_t>(page), out, sizeof(out)));
    EXPECT_STREQ(out, "thread");
    EXPECT_STREQ(page, "parent");
  }
  munmap(page, 4096);
}

// Starts a process whose pid is `tid` (clone3 with set_tid; needs CAP_SYS_ADMIN over this
// pid namespace). It sleeps until killed. Returns its pid, or -errno.
pid_t StartProcessAt(pid_t tid) {
  struct clone_args args;
  memset(&args, 0, sizeof(args));
  args.exit_signal = SIGCHLD;
  args.set_tid = reinterpret_cast<uintptr_t>(&tid);
  args.set_tid_size = 1;
  long pid = -1;
  // The tid is released shortly after its thread is gone from /proc.
  for (int i = 0; i < 1000; ++i) {
    pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid >= 0 || errno != EEXIST) break;
    usleep(1000);
  }
  if (pid == 0) SleepForever(nullptr);
  return pid < 0 ? -errno : static_cast<pid_t>(pid);
}

// Test the attack that broke the tid-addressed accessor: a module thread's call is served
// after the thread died and another process took its tid. The write lands in the module
// (its main thread still lives) and never in the process that now holds the tid.
TEST_F(ModuleMemoryTest, ReusedThreadIdIsNeverWritten) {
  char* page = MapPage(PROT_READ | PROT_WRITE);
  ASSERT_NE(page, nullptr);
  memcpy(page, "victim", 7);
  Child module(/*main_thread_exits=*/false, /*start_thread=*/true);
  ASSERT_GT(module.thread(), 0);
  const pid_t tid = module.thread();
  module.EndThread();
  const pid_t victim = StartProcessAt(tid);
  if (victim == -EPERM) {
    GTEST_SKIP() << "clone3(set_tid) needs CAP_SYS_ADMIN over the pid namespace; the "
                    "attack cannot be staged here";
  }
  ASSERT_EQ(victim, tid) << strerror(-victim);

  ModuleMemory memory(module.pid());
  ModuleMemory::Call call(&memory, tid, Gone);
  EXPECT_TRUE(call.Write(reinterpret_cast<uintptr_t>(page), "module", 7));

  char out[7] = {};
  iovec local = {out, sizeof(out)};
  iovec remote = {page, sizeof(out)};
  ASSERT_EQ(process_vm_readv(victim, &local, 1, &remote, 1, 0), 7);
  EXPECT_STREQ(out, "victim");
  ModuleMemory::Call check(&memory, module.pid(), Live);
  ASSERT_TRUE(check.Read(reinterpret_cast<uintptr_t>(page), out, sizeof(out)));
  EXPECT_STREQ(out, "module");
  kill(victim, SIGKILL);
  waitpid(victim, nullptr, 0);
  munmap(page, 4096);
}

}  // namespace
}  // namespace sel_ldr
