// End-to-end: sel_ldr -m DIR[:ro] makes DIR the module's root (tests/modules/files.c). Ordinary
// file use works and changes exactly what it should in DIR; every way out of DIR (.., absolute
// and climbing symlinks, /proc, renames racing with the walk, the host swapping a directory
// for a symlink) reaches nothing outside: no file outside is read, written, made or removed;
// a read-only mount refuses every change; nothing leaks.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// Every path below `path`, with "/" after directories, sorted; symlinks are not followed.
std::set<std::string> Tree(const std::string& path, const std::string& prefix = "") {
  std::set<std::string> entries;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return entries;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (entry->d_type == DT_DIR) {
      entries.insert(prefix + name + "/");
      for (const std::string& inner : Tree(path + "/" + name, prefix + name + "/")) {
        entries.insert(inner);
      }
    } else {
      entries.insert(prefix + name);
    }
  }
  closedir(dir);
  return entries;
}

// A fresh directory per test: `outside` holds `root` (the mount) and the files the module must
// never reach: outside/secret ("SECRET"), outside/victim ("ORIGINAL").
class MountDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = TestTempDir() + "/mount.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    outside_ = pattern;
    root_ = outside_ + "/root";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    WriteFile(outside_ + "/secret", "SECRET\n");
    WriteFile(outside_ + "/victim", "ORIGINAL\n");
    WriteFile(root_ + "/secret", "INSIDE\n");
    fds_before_ = base::CountOpenFds();
  }

  void TearDown() override {
    EXPECT_EQ(base::CountOpenFds(), fds_before_) << base::DescribeOpenFds();
  }

  // The host state outside the mount: what must never change.
  std::set<std::string> OutsideState() {
    std::set<std::string> state;
    for (const std::string& entry : Tree(outside_)) {
      if (entry.rfind("root/", 0) == 0) continue;
      state.insert(entry + "=" + ReadFile(outside_ + "/" + entry));
    }
    return state;
  }

  SelLdrResult Run(const std::vector<std::string>& flags, std::vector<std::string> args) {
    SelLdrCommand command;
    command.flags = flags;
    command.module = ModulePath("files");
    command.args = std::move(args);
    absl::StatusOr<SelLdrResult> result = RunSelLdr(command);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : SelLdrResult();
  }

  std::vector<std::string> Mount() { return {"-m", root_}; }

  std::string outside_;
  std::string root_;
  int fds_before_ = 0;
};

// Test that a program writes a file, reads it back, stats it, makes and removes a directory,
// renames the file, opens relative to a directory descriptor and lists directories, and that
// DIR then holds exactly what it did.
TEST_F(MountDirTest, OrdinaryFileUseWorksInsideTheMount) {
  ASSERT_EQ(symlink("/etc/passwd", (root_ + "/link").c_str()), 0);
  const std::set<std::string> outside = OutsideState();
  SelLdrResult result = Run(Mount(), {"ordinary"});
  ASSERT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_THAT(
      Lines(result.out),
      ElementsAre("read back: hello from the module", "stat /data.txt: ok", "size: 22 regular: 1",
                  "access /data.txt: ok", "mkdir /sub: ok", "mkdir /sub/empty: ok",
                  "rmdir /sub/empty: ok", "rename /data.txt: ok", "symlink readlink /link: ok",
                  "open /sub: ok", "openat renamed.txt: ok", "openat read: hello from the module",
                  "openat ../sub/renamed.txt: ok", "unlinkat gone.txt: ENOENT", "read /sub: EISDIR",
                  "list /: link secret sub", "list /sub: renamed.txt"))
      << result.Describe();
  EXPECT_EQ(Tree(root_), (std::set<std::string>{"link", "secret", "sub/", "sub/renamed.txt"}));
  EXPECT_EQ(ReadFile(root_ + "/sub/renamed.txt"), "hello from the module\n");
  EXPECT_EQ(OutsideState(), outside);
}

// Test that no path leads a read outside the mount: "..", absolute and climbing symlinks, a
// symlink to /etc/passwd, a symlinked directory outside, /proc of the module and of a host
// process. Each read fails or reads the file inside that the path names from the root.
TEST_F(MountDirTest, NoPathReadsOutside) {
  const std::string outside_secret = outside_ + "/secret";
  ASSERT_EQ(symlink(outside_secret.c_str(), (root_ + "/absolute").c_str()), 0);
  ASSERT_EQ(symlink("../secret", (root_ + "/climbing").c_str()), 0);
  ASSERT_EQ(symlink("../../../../../../../../secret", (root_ + "/far").c_str()), 0);
  ASSERT_EQ(symlink("/etc/passwd", (root_ + "/passwd").c_str()), 0);
  ASSERT_EQ(symlink(outside_.c_str(), (root_ + "/outdir").c_str()), 0);
  ASSERT_EQ(symlink("/proc/self/root", (root_ + "/procroot").c_str()), 0);
  ASSERT_EQ(mkdir((root_ + "/d").c_str(), 0755), 0);
  std::vector<std::string> paths = {
      "/../secret",
      "../../../../secret",
      "/d/../../secret",
      "d/../../../secret",
      "/absolute",
      "/climbing",
      "/far",
      "/passwd",
      "/etc/passwd",
      "/outdir/secret",
      "/outdir/victim",
      "/procroot" + outside_secret,
      "/proc/self/root" + outside_secret,
      "/proc/self/cwd/../secret",
      "/proc/self/fd/0",
      absl::StrCat("/proc/", getpid(), "/root", outside_secret),
      absl::StrCat("/proc/", getppid(), "/root/etc/passwd"),
      outside_secret,
  };
  std::vector<std::string> args = {"read"};
  args.insert(args.end(), paths.begin(), paths.end());
  SelLdrResult result = Run(Mount(), args);
  ASSERT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  std::vector<std::string> lines = Lines(result.out);
  ASSERT_EQ(lines.size(), paths.size()) << result.Describe();
  for (size_t i = 0; i < paths.size(); ++i) {
    EXPECT_THAT(lines[i], HasSubstr(paths[i]));
    EXPECT_THAT(lines[i], Not(HasSubstr("SECRET"))) << lines[i];
    EXPECT_THAT(lines[i], Not(HasSubstr("ORIGINAL"))) << lines[i];
    EXPECT_THAT(lines[i], Not(HasSubstr("root:"))) << lines[i];
  }
  // ".." stops at the root: these name the file inside.
  EXPECT_EQ(lines[0], "read /../secret: ok INSIDE");
  EXPECT_EQ(lines[1], "read ../../../../secret: ok INSIDE");
  EXPECT_EQ(lines[2], "read /d/../../secret: ok INSIDE");
  EXPECT_EQ(lines[5], "read /climbing: ok INSIDE");
  EXPECT_EQ(lines[6], "read /far: ok INSIDE");
}

// Test that no path leads a write, create, mkdir, unlink, rmdir or rename outside the mount:
// everything outside stays as it was.
TEST_F(MountDirTest, NoPathChangesOutside) {
  const std::string outside_victim = outside_ + "/victim";
  ASSERT_EQ(symlink(outside_victim.c_str(), (root_ + "/absolute").c_str()), 0);
  ASSERT_EQ(symlink("../victim", (root_ + "/climbing").c_str()), 0);
  ASSERT_EQ(symlink(outside_.c_str(), (root_ + "/outdir").c_str()), 0);
  WriteFile(root_ + "/bait", "BAIT\n");
  const std::set<std::string> outside = OutsideState();
  std::vector<std::string> paths = {
      "/../victim",     "../../victim",    "/absolute",    "/climbing",
      "/outdir/victim", "/outdir/newfile", outside_victim, "/proc/self/root" + outside_victim,
      "/../newdir",
  };
  std::vector<std::string> args = {"write"};
  args.insert(args.end(), paths.begin(), paths.end());
  SelLdrResult result = Run(Mount(), args);
  ASSERT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_EQ(Lines(result.out).size(), 6 * paths.size()) << result.Describe();
  EXPECT_EQ(OutsideState(), outside);
  EXPECT_EQ(ReadFile(outside_victim), "ORIGINAL\n");
}

// Test that a read-only mount refuses every change with EROFS and still reads.
TEST_F(MountDirTest, ReadOnlyMountRefusesEveryChange) {
  WriteFile(root_ + "/data.txt", "DATA\n");
  ASSERT_EQ(mkdir((root_ + "/dir").c_str(), 0755), 0);
  const std::set<std::string> before = Tree(root_);
  SelLdrResult result = Run({"-m", root_ + ":ro"}, {"readonly"});
  ASSERT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_THAT(
      Lines(result.out),
      ElementsAre("read-open /data.txt: ok", "read /data.txt: ok",
                  "write-via-read-fd /data.txt: EBADF", "open-wronly /data.txt: EROFS",
                  "open-rdwr /data.txt: EROFS", "open-trunc /data.txt: EROFS",
                  "open-creat /new.txt: EROFS", "creat /new.txt: EROFS",
                  "access-w /data.txt: EROFS", "mkdir /newdir: EROFS", "unlink /data.txt: EROFS",
                  "rmdir /dir: EROFS", "rename /data.txt: EROFS"))
      << result.Describe();
  EXPECT_EQ(Tree(root_), before);
  EXPECT_EQ(ReadFile(root_ + "/data.txt"), "DATA\n");
}

// Test that without -m the path calls that reach the supervisor answer EACCES (Native
// Client's answer without file access) and do not kill the module, and that nothing changes.
TEST_F(MountDirTest, WithoutMountPathCallsAnswerEacces) {
  const std::set<std::string> outside = OutsideState();
  SelLdrResult result = Run({}, {"write", outside_ + "/victim"});
  ASSERT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  const std::string path = outside_ + "/victim";
  EXPECT_THAT(Lines(result.out),
              ElementsAre("write " + path + ": EACCES", "mkdir " + path + ": EACCES",
                          "unlink " + path + ": EACCES", "rmdir " + path + ": EACCES",
                          "rename-from " + path + ": EACCES", "rename-to " + path + ": EACCES"))
      << result.Describe();
  EXPECT_EQ(OutsideState(), outside);
}

// Test that while one module thread renames a directory back and forth under the path another
// thread opens ("/race/a/b/../../../secret" and a climbing symlink inside b), no open reaches
// the file outside.
TEST_F(MountDirTest, RenameRaceInModuleNeverReachesOutside) {
  ASSERT_EQ(mkdir((root_ + "/race").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/race/a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/race/a/b").c_str(), 0755), 0);
  ASSERT_EQ(symlink("../../..", (root_ + "/race/a/b/up").c_str()), 0);
  SelLdrResult result = Run(Mount(), {"race", "3000"});
  ASSERT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_THAT(result.out, Not(HasSubstr("SECRET"))) << result.Describe();
  EXPECT_THAT(result.out, HasSubstr("loop INSIDE: ")) << result.Describe();
  long total = 0;
  for (const std::string& line : Lines(result.out)) {
    EXPECT_TRUE(absl::StartsWith(line, "loop INSIDE: ") || absl::StartsWith(line, "loop ENOENT: "))
        << line;
    total += atol(line.substr(line.rfind(' ') + 1).c_str());
  }
  EXPECT_EQ(total, 6000);
}

// Swaps root/swap, a directory holding f ("INSIDE"), with symlinks to the outside directory
// (absolute, and climbing), atomically and over and over, until stopped.
class Swapper {
 public:
  explicit Swapper(const std::string& root, const std::string& outside) : root_(root) {
    EXPECT_EQ(mkdir((root + "/swap").c_str(), 0755), 0);
    WriteFile(root + "/swap/f", "INSIDE\n");
    EXPECT_EQ(symlink(outside.c_str(), (root + "/absolute").c_str()), 0);
    EXPECT_EQ(symlink("../outside", (root + "/climbing").c_str()), 0);
    thread_ = std::thread([this] {
      const std::string swap = root_ + "/swap";
      while (!stop_.load()) {
        for (const char* other : {"/absolute", "/climbing"}) {
          const std::string link = root_ + other;
          syscall(SYS_renameat2, AT_FDCWD, swap.c_str(), AT_FDCWD, link.c_str(), RENAME_EXCHANGE);
          syscall(SYS_renameat2, AT_FDCWD, swap.c_str(), AT_FDCWD, link.c_str(), RENAME_EXCHANGE);
        }
        ++swaps_;
      }
    });
  }
  ~Swapper() {
    stop_.store(true);
    thread_.join();
  }
  long swaps() const { return swaps_.load(); }

 private:
  std::string root_;
  std::atomic<bool> stop_{false};
  std::atomic<long> swaps_{0};
  std::thread thread_;
};

// Test that while the host swaps a directory on the module's path for symlinks to outside,
// the module's opens of /swap/f read only the file inside (or find nothing).
TEST_F(MountDirTest, HostSwappingDirectoryForSymlinkNeverLeaksARead) {
  // outside/outside/f is what a followed symlink would reach.
  ASSERT_EQ(mkdir((outside_ + "/outside").c_str(), 0755), 0);
  WriteFile(outside_ + "/outside/f", "SECRET\n");
  SelLdrResult result;
  long swaps = 0;
  {
    Swapper swapper(root_, outside_ + "/outside");
    result = Run(Mount(), {"loop", "/swap/f", "3000"});
    swaps = swapper.swaps();
  }
  ASSERT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_GT(swaps, 0);
  EXPECT_THAT(result.out, Not(HasSubstr("SECRET"))) << result.Describe();
  EXPECT_THAT(result.out, HasSubstr("loop INSIDE: ")) << result.Describe();
}

// Test the same for writes: the file outside is never appended to.
TEST_F(MountDirTest, HostSwappingDirectoryForSymlinkNeverLeaksAWrite) {
  ASSERT_EQ(mkdir((outside_ + "/outside").c_str(), 0755), 0);
  WriteFile(outside_ + "/outside/f", "SECRET\n");
  SelLdrResult result;
  {
    Swapper swapper(root_, outside_ + "/outside");
    result = Run(Mount(), {"loop_write", "/swap/f", "3000"});
  }
  ASSERT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_THAT(result.out, HasSubstr("loop wrote: ")) << result.Describe();
  EXPECT_EQ(ReadFile(outside_ + "/outside/f"), "SECRET\n");
}

// sel_ldr's open fds, but for its workers' eventfds: idle workers come and go.
int CountFdsOf(pid_t pid) {
  const std::string fds = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(fds.c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char target[64] = {};
    readlink(absl::StrCat(fds, "/", entry->d_name).c_str(), target, sizeof(target) - 1);
    if (strcmp(target, "anon_inode:[eventfd]") != 0) ++count;
  }
  closedir(dir);
  return count;
}

// Test that path calls, successful or not, leave sel_ldr holding no more fds than before.
TEST_F(MountDirTest, PathCallsLeakNoFdInSelLdr) {
  WriteFile(root_ + "/data.txt", "DATA\n");
  SelLdrCommand command;
  command.flags = Mount();
  command.module = ModulePath("files");
  command.args = {"fds", "500"};
  command.pipe_stdin = true;
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process = SelLdrProcess::Start(command);
  ASSERT_TRUE(process.ok()) << process.status();
  absl::StatusOr<std::string> line = (*process)->ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  ASSERT_EQ(*line, "baseline");
  // The module's read of stdin is blocked in a worker by now or soon; let it settle.
  usleep(100 * 1000);
  const int baseline = CountFdsOf((*process)->pid());
  ASSERT_TRUE((*process)->WriteStdin("go\n").ok());
  line = (*process)->ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  ASSERT_EQ(*line, "after");
  usleep(100 * 1000);
  EXPECT_EQ(CountFdsOf((*process)->pid()), baseline);
  ASSERT_TRUE((*process)->WriteStdin("done\n").ok());
  absl::StatusOr<SelLdrResult> result = (*process)->Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_GT(baseline, 0);
}

// Test that -m names a directory that exists: otherwise sel_ldr stops with a usage error
// naming it, before the module runs.
TEST_F(MountDirTest, MountOfMissingOrNonDirectoryIsUsageError) {
  for (const std::string& bad : {root_ + "/missing", root_ + "/secret"}) {
    SelLdrResult result = Run({"-m", bad}, {"ordinary"});
    ASSERT_TRUE(result.exited) << result.Describe();
    EXPECT_EQ(result.exit_status, 2) << result.Describe();
    EXPECT_THAT(result.err, HasSubstr("-m " + bad)) << result.Describe();
    EXPECT_EQ(result.out, "");
  }
}

// Test that -a alone gives no file access and says so, and that the module still runs.
TEST_F(MountDirTest, AllowFilesAloneGivesNothingAndSaysSo) {
  SelLdrResult result = Run({"-a"}, {"read", outside_ + "/secret"});
  ASSERT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_THAT(result.err, HasSubstr("-a gives no host file access")) << result.Describe();
  EXPECT_THAT(result.out, Not(HasSubstr("SECRET"))) << result.Describe();
  EXPECT_THAT(result.out, Not(HasSubstr(": ok"))) << result.Describe();
}

}  // namespace
}  // namespace tests
