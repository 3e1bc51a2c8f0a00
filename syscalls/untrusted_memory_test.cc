#include "syscalls/untrusted_memory.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gtest/gtest.h"

namespace syscalls {
namespace {

constexpr uint64_t kBase = 0x10000;
constexpr size_t kSize = 4096;

class UntrustedMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = base::CountOpenFds(); }
  void TearDown() override {
    EXPECT_EQ(base::CountOpenFds(), fds_before_) << base::DescribeOpenFds();
  }

 private:
  int fds_before_ = -1;
};

using BufferMemoryTest = UntrustedMemoryTest;

// Test that reads and writes inside the buffer work, up to and including its last byte.
TEST_F(BufferMemoryTest, InsideIsAccessible) {
  BufferMemory memory(kBase, kSize);
  EXPECT_TRUE(memory.Write(kBase, "head", 4));
  EXPECT_TRUE(memory.Write(kBase + kSize - 4, "tail", 4));
  char out[4];
  ASSERT_TRUE(memory.Read(kBase, out, 4));
  EXPECT_EQ(std::string(out, 4), "head");
  ASSERT_TRUE(memory.Read(kBase + kSize - 4, out, 4));
  EXPECT_EQ(std::string(out, 4), "tail");
  std::vector<char> whole(kSize);
  EXPECT_TRUE(memory.Read(kBase, whole.data(), kSize));
}

// Test that any byte just outside the buffer, on either side, is EFAULT (false).
TEST_F(BufferMemoryTest, JustOutsideIsRefused) {
  BufferMemory memory(kBase, kSize);
  char byte = 'x';
  EXPECT_FALSE(memory.Read(kBase - 1, &byte, 1));
  EXPECT_FALSE(memory.Read(kBase - 1, &byte, 2));
  EXPECT_FALSE(memory.Read(kBase + kSize, &byte, 1));
  EXPECT_FALSE(memory.Write(kBase + kSize, &byte, 1));
  EXPECT_FALSE(memory.Write(kBase - 1, &byte, 1));
  std::vector<char> one_more(kSize + 1);
  EXPECT_FALSE(memory.Read(kBase, one_more.data(), kSize + 1));
  EXPECT_FALSE(memory.Write(kBase + kSize - 3, "four", 4));
}

// Test that a refused write leaves the buffer untouched.
TEST_F(BufferMemoryTest, RefusedWriteChangesNothing) {
  BufferMemory memory(kBase, kSize);
  EXPECT_FALSE(memory.Write(kBase + kSize - 2, "abcd", 4));
  EXPECT_EQ(memory.data()[kSize - 2], 0);
  EXPECT_EQ(memory.data()[kSize - 1], 0);
}

// Test that address + size overflowing 2^64 is refused rather than wrapping into the buffer.
TEST_F(BufferMemoryTest, OverflowNear2To64IsRefused) {
  BufferMemory memory(kBase, kSize);
  char out[16];
  EXPECT_FALSE(memory.Read(~uint64_t{0}, out, 2));
  EXPECT_FALSE(memory.Read(~uint64_t{0} - 7, out, 16));
  EXPECT_FALSE(memory.Read(kBase + 8, out, SIZE_MAX));
  EXPECT_FALSE(memory.Read(kBase, out, SIZE_MAX - 8));
  EXPECT_FALSE(memory.Write(kBase + 1, out, SIZE_MAX));
  EXPECT_FALSE(memory.Write(~uint64_t{0} - kSize, out, kSize + 2));
}

// Test that a buffer ending exactly at 2^64 has all its bytes and nothing beyond.
TEST_F(BufferMemoryTest, BufferAtTopOfAddressSpace) {
  const uint64_t base = ~uint64_t{0} - 15;  // Bytes base .. 2^64 - 1.
  BufferMemory memory(base, 16);
  char out[16];
  EXPECT_TRUE(memory.Read(base, out, 16));
  EXPECT_TRUE(memory.Write(~uint64_t{0}, "z", 1));
  EXPECT_FALSE(memory.Read(base, out, 17));
  EXPECT_FALSE(memory.Read(~uint64_t{0}, out, 2));
  EXPECT_FALSE(memory.Read(0, out, 1));
}

// Test that zero bytes may be read or written at any address.
TEST_F(BufferMemoryTest, ZeroLengthIsAlwaysAllowed) {
  BufferMemory memory(kBase, kSize);
  char byte;
  EXPECT_TRUE(memory.Read(0, &byte, 0));
  EXPECT_TRUE(memory.Write(~uint64_t{0}, &byte, 0));
}

// Test that Gather concatenates ranges and fails if any range is outside.
TEST_F(BufferMemoryTest, GatherConcatenatesOrFails) {
  BufferMemory memory(kBase, kSize);
  ASSERT_TRUE(memory.Write(kBase, "0123456789", 10));
  UntrustedRange ranges[] = {{kBase + 8, 2}, {kBase, 0}, {kBase + 2, 3}};
  char out[5];
  ASSERT_TRUE(memory.Gather(ranges, out));
  EXPECT_EQ(std::string(out, 5), "89234");
  UntrustedRange bad[] = {{kBase, 2}, {kBase + kSize - 1, 2}};
  EXPECT_FALSE(memory.Gather(bad, out));
}

// Test that Scatter fills ranges in order up to `size` and fails if the ranges hold less.
TEST_F(BufferMemoryTest, ScatterFillsOrFails) {
  BufferMemory memory(kBase, kSize);
  UntrustedRange ranges[] = {{kBase + 10, 2}, {kBase, 3}, {~uint64_t{0}, SIZE_MAX}};
  ASSERT_TRUE(memory.Scatter(ranges, "abcde", 5));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(memory.data()), 3), "cde");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(memory.data()) + 10, 2), "ab");
  UntrustedRange short_ranges[] = {{kBase, 2}};
  EXPECT_FALSE(memory.Scatter(short_ranges, "abc", 3));
  EXPECT_FALSE(memory.Scatter(ranges, "abcdef", 6));  // The third range is outside.
}

// Test that CheckedAdd reports overflow.
TEST(CheckedAddTest, ReportsOverflow) {
  size_t sum = 0;
  EXPECT_TRUE(CheckedAdd(1, 2, &sum));
  EXPECT_EQ(sum, 3u);
  EXPECT_TRUE(CheckedAdd(SIZE_MAX - 1, 1, &sum));
  EXPECT_EQ(sum, SIZE_MAX);
  EXPECT_FALSE(CheckedAdd(SIZE_MAX, 1, &sum));
  EXPECT_FALSE(CheckedAdd(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, &sum));
}

// A forked child that keeps still while the test reads and writes its memory, then exits 0
// if its `buffer` holds `expected`. The memory it shares with the parent's layout (same
// addresses after fork) is what ProcessMemory is pointed at.
class StillChild {
 public:
  StillChild(const char* buffer, const char* expected, size_t size) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    base::UniqueFd read_end(fds[0]);
    go_.reset(fds[1]);
    pid_ = fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls from here on.
      close(go_.release());
      char byte;
      ssize_t got = read(read_end.get(), &byte, 1);
      _exit(got == 1 && memcmp(buffer, expected, size) == 0 ? 0 : 1);
    }
  }
  StillChild(const StillChild&) = delete;
  StillChild& operator=(const StillChild&) = delete;
  ~StillChild() {
    if (pid_ > 0) Finish();
  }

  pid_t pid() const { return pid_; }

  // Lets the child check its buffer; returns its exit status (-1 if it did not exit).
  int Finish() {
    if (go_.valid()) (void)!write(go_.get(), "g", 1);
    go_.reset();
    int status = 0;
    pid_t waited = waitpid(pid_, &status, 0);
    pid_ = -1;
    return waited > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  base::UniqueFd go_;
};

// Pages of this process: [page 0 | hole | page 2], with the hole unmapped.
class PagesWithHole {
 public:
  PagesWithHole() {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* start =
        mmap(nullptr, 3 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (start == MAP_FAILED) return;
    start_ = static_cast<char*>(start);
    munmap(start_ + page_, page_);
  }
  ~PagesWithHole() {
    if (start_ == nullptr) return;
    munmap(start_, page_);
    munmap(start_ + 2 * page_, page_);
  }
  bool ok() const { return start_ != nullptr; }
  char* first() { return start_; }
  char* hole() { return start_ + page_; }
  char* last() { return start_ + 2 * page_; }
  size_t page() const { return page_; }
  static uint64_t Address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

 private:
  size_t page_ = 0;
  char* start_ = nullptr;
};

using ProcessMemoryTest = UntrustedMemoryTest;

// Test that ProcessMemory reads the child's memory (not this process's copy) and writes
// into it.
TEST_F(ProcessMemoryTest, ReadsAndWritesChildMemory) {
  PagesWithHole pages;
  ASSERT_TRUE(pages.ok());
  strcpy(pages.first(), "child's data");
  StillChild child(pages.first(), "written by test", 16);
  ASSERT_GT(child.pid(), 0);
  strcpy(pages.first(), "changed here");  // The child keeps its copy.

  ProcessMemory memory(child.pid());
  char out[13] = {};
  ASSERT_TRUE(memory.Read(PagesWithHole::Address(pages.first()), out, 12));
  EXPECT_STREQ(out, "child's data");
  ASSERT_TRUE(memory.Write(PagesWithHole::Address(pages.first()), "written by test", 16));
  EXPECT_STREQ(pages.first(), "changed here");  // Not this process's memory.
  EXPECT_EQ(child.Finish(), 0);
}

// Test that ProcessMemory is EFAULT (false) on an unmapped address, a range running into
// unmapped memory, and addresses near 2^64.
TEST_F(ProcessMemoryTest, UnmappedIsRefused) {
  PagesWithHole pages;
  ASSERT_TRUE(pages.ok());
  StillChild child(pages.first(), "", 0);
  ASSERT_GT(child.pid(), 0);
  ProcessMemory memory(child.pid());
  const uint64_t hole = PagesWithHole::Address(pages.hole());
  char buffer[64] = {};
  EXPECT_FALSE(memory.Read(hole, buffer, 1));
  EXPECT_FALSE(memory.Write(hole, buffer, 1));
  EXPECT_FALSE(memory.Read(hole - 8, buffer, 16));
  EXPECT_FALSE(memory.Write(hole - 8, buffer, 16));
  EXPECT_FALSE(memory.Read(PagesWithHole::Address(pages.last()) - 1, buffer, 2));
  EXPECT_FALSE(memory.Read(~uint64_t{0} - 3, buffer, 16));
  EXPECT_FALSE(memory.Write(~uint64_t{0} - 3, buffer, 16));
  EXPECT_FALSE(memory.Read(0, buffer, 1));
  EXPECT_TRUE(memory.Read(hole - 8, buffer, 8));  // The mapped part alone is fine.
  EXPECT_EQ(child.Finish(), 0);
}

// Test that Gather and Scatter move many ranges (more than one process_vm_* call takes) in
// order, and fail as a whole if one range is unmapped.
TEST_F(ProcessMemoryTest, GatherAndScatterManyRanges) {
  PagesWithHole pages;
  ASSERT_TRUE(pages.ok());
  constexpr size_t kRanges = 2500;
  for (size_t i = 0; i < kRanges; ++i) pages.first()[i] = static_cast<char>('a' + i % 26);
  std::string reversed(pages.first(), kRanges);
  std::reverse(reversed.begin(), reversed.end());
  StillChild child(pages.last(), reversed.data(), kRanges);
  ASSERT_GT(child.pid(), 0);
  ProcessMemory memory(child.pid());

  // Every byte of page 0, last to first, one range each (with empty ranges between).
  std::vector<UntrustedRange> backwards;
  for (size_t i = kRanges; i-- > 0;) {
    backwards.push_back({PagesWithHole::Address(pages.first()) + i, 1});
    backwards.push_back({PagesWithHole::Address(pages.hole()), 0});
  }
  std::string gathered(kRanges, '\0');
  ASSERT_TRUE(memory.Gather(backwards, gathered.data()));
  EXPECT_EQ(gathered, reversed);

  std::vector<UntrustedRange> forwards;
  for (size_t i = 0; i < kRanges; ++i) {
    forwards.push_back({PagesWithHole::Address(pages.last()) + i, 1});
  }
  ASSERT_TRUE(memory.Scatter(forwards, reversed.data(), kRanges));

  std::vector<UntrustedRange> with_hole = forwards;
  with_hole[kRanges / 2] = {PagesWithHole::Address(pages.hole()), 1};
  EXPECT_FALSE(memory.Gather(with_hole, gathered.data()));
  EXPECT_FALSE(memory.Scatter(with_hole, reversed.data(), kRanges));
  EXPECT_EQ(child.Finish(), 0);
}

// Test that lengths near 2^64 are refused without a crash when they must all be read, and
// that Scatter moves only the bytes it has into a huge range.
TEST_F(ProcessMemoryTest, LengthsNear2To64) {
  PagesWithHole pages;
  ASSERT_TRUE(pages.ok());
  StillChild child(pages.first(), "sixteen bytes!!", 16);
  ASSERT_GT(child.pid(), 0);
  ProcessMemory memory(child.pid());
  const uint64_t first = PagesWithHole::Address(pages.first());
  char out[16];
  UntrustedRange wrapping[] = {{first, 8}, {first, SIZE_MAX}};
  EXPECT_FALSE(memory.Gather(wrapping, out));
  UntrustedRange huge[] = {{first, SIZE_MAX}};
  EXPECT_FALSE(memory.Gather(huge, out));
  EXPECT_FALSE(memory.Read(first, out, SIZE_MAX));
  EXPECT_FALSE(memory.Write(first, out, SIZE_MAX));
  EXPECT_TRUE(memory.Scatter(huge, "sixteen bytes!!", 16));
  EXPECT_EQ(child.Finish(), 0);
}

}  // namespace
}  // namespace syscalls
