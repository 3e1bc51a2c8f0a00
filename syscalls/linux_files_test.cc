// fcntl, the file calls on HostIo files, and pipes, through the Linux dispatch table with a
// simulated module.
#include "syscalls/linux_files.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "syscalls/descriptor_types.h"
#include "syscalls/module_test_base.h"
#include "syscalls/syscall_table.h"
#include "syscalls/test_module.h"

namespace syscalls {
namespace {

int64_t Linux(TestModule& module, uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0,
              uint64_t a2 = 0, uint64_t a3 = 0) {
  return SyscallTable::LinuxDescriptorCalls().Dispatch(module.Context(), number,
                                                       SyscallArgs{{a0, a1, a2, a3, 0, 0}});
}

class LinuxFilesTest : public ModuleTestBase {
 protected:
  // The loader ignores SIGPIPE (a write to a closed pipe answers EPIPE); so does this test.
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }

  // A new temporary file holding `contents`, installed in A as a HostIo descriptor with
  // `access`. Returns its descriptor.
  int InstallFile(const std::string& contents, HostIoDescriptor::Access access) {
    std::string path = std::string(getenv("TEST_TMPDIR")) + "/fileXXXXXX";
    int fd = mkstemp(&path[0]);
    EXPECT_GE(fd, 0);
    unlink(path.c_str());
    EXPECT_EQ(write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
    lseek(fd, 0, SEEK_SET);
    return a().table().Install(std::make_shared<HostIoDescriptor>(base::UniqueFd(fd), access));
  }

  // A's pipe: {read end, write end}.
  std::pair<int, int> Pipe(int flags = 0) {
    uint64_t out = a().Allocate(8);
    EXPECT_EQ(Linux(a(), SYS_pipe2, out, static_cast<uint64_t>(flags)), 0);
    int ends[2];
    a().memory().Read(out, ends, sizeof(ends));
    return {ends[0], ends[1]};
  }

  int64_t Write(int d, const std::string& bytes) {
    return Linux(a(), SYS_write, static_cast<uint64_t>(d), a().PutString(bytes), bytes.size());
  }
  // read(2) of up to `room` bytes: the result, and the bytes in *out.
  int64_t Read(int d, size_t room, std::string* out) {
    uint64_t buffer = a().Allocate(room);
    int64_t n = Linux(a(), SYS_read, static_cast<uint64_t>(d), buffer, room);
    *out = n > 0 ? a().GetString(buffer, static_cast<size_t>(n)) : "";
    return n;
  }
};

// Test that a pipe carries bytes in order, reports its ends' access, ends with end of file
// once the write end is closed, and answers EPIPE once the read end is.
TEST_F(LinuxFilesTest, PipeBehavesLikeAPipe) {
  auto [r, w] = Pipe();
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(Linux(a(), SYS_fcntl, w, F_GETFL) & O_ACCMODE, O_WRONLY);
  EXPECT_EQ(Write(w, "hello "), 6);
  EXPECT_EQ(Write(w, "pipe"), 4);
  std::string got;
  EXPECT_EQ(Read(r, 64, &got), 10);
  EXPECT_EQ(got, "hello pipe");
  EXPECT_EQ(Write(r, "x"), -EBADF);  // The read end is read-only.
  EXPECT_EQ(Linux(a(), SYS_lseek, r, 0, SEEK_SET), -ESPIPE);
  EXPECT_EQ(Linux(a(), SYS_close, w), 0);
  EXPECT_EQ(Read(r, 64, &got), 0);
  auto [r2, w2] = Pipe();
  EXPECT_EQ(Linux(a(), SYS_close, r2), 0);
  EXPECT_EQ(Write(w2, "x"), -EPIPE);
  a().table().CloseAll();
}

// Test that pipe2 takes O_NONBLOCK and O_CLOEXEC into the descriptors' and slots' flags,
// refuses other flags, and that a nonblocking read of an empty pipe answers EAGAIN.
TEST_F(LinuxFilesTest, Pipe2Flags) {
  auto [r, w] = Pipe(O_NONBLOCK | O_CLOEXEC);
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_GETFL), O_RDONLY | O_NONBLOCK);
  EXPECT_EQ(Linux(a(), SYS_fcntl, w, F_GETFD), FD_CLOEXEC);
  std::string got;
  EXPECT_EQ(Read(r, 8, &got), -EAGAIN);
  uint64_t out = a().Allocate(8);
  EXPECT_EQ(Linux(a(), SYS_pipe2, out, O_DIRECT), -EINVAL);
  EXPECT_EQ(Linux(a(), SYS_pipe2, TestModule::kUnmapped, 0), -EFAULT);
  EXPECT_EQ(a().table().OpenCount(), 2u);  // Nothing stays installed after the fault.
  a().table().CloseAll();
}

// Test that O_NONBLOCK set with F_SETFL is the module descriptor's own: a read of an empty
// granted pipe answers EAGAIN, while the host fd (shared with the embedder) stays blocking.
TEST_F(LinuxFilesTest, NonblockIsNeverSetOnTheHostFd) {
  int host[2];
  ASSERT_EQ(pipe2(host, O_CLOEXEC), 0);
  base::UniqueFd host_writer(host[1]);
  const int host_reader = dup(host[0]);  // The embedder's copy of the same description.
  const int d = a().table().Install(std::make_shared<HostIoDescriptor>(
      base::UniqueFd(host[0]), HostIoDescriptor::Access::kReadOnly));
  ASSERT_EQ(Linux(a(), SYS_fcntl, d, F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(Linux(a(), SYS_fcntl, d, F_GETFL), O_RDONLY | O_NONBLOCK);
  EXPECT_EQ(fcntl(host_reader, F_GETFL) & O_NONBLOCK, 0);
  std::string got;
  EXPECT_EQ(Read(d, 8, &got), -EAGAIN);
  ASSERT_EQ(write(host_writer.get(), "ab", 2), 2);
  EXPECT_EQ(Read(d, 8, &got), 2);
  EXPECT_EQ(got, "ab");
  EXPECT_EQ(Linux(a(), SYS_fcntl, d, F_SETFL, O_ASYNC), -EINVAL);
  close(host_reader);
  a().table().CloseAll();
}

// Test that FD_CLOEXEC belongs to the slot: dup does not copy it, F_DUPFD_CLOEXEC and dup3's
// O_CLOEXEC set it, and F_DUPFD takes the lowest free slot at or above its argument.
TEST_F(LinuxFilesTest, DescriptorFlagsArePerSlot) {
  auto [r, w] = Pipe();
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_GETFD), 0);
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_SETFD, FD_CLOEXEC), 0);
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_GETFD), FD_CLOEXEC);
  const int64_t copy = Linux(a(), SYS_dup, r);
  ASSERT_GE(copy, 0);
  EXPECT_EQ(Linux(a(), SYS_fcntl, copy, F_GETFD), 0);
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_DUPFD, 100), 100);
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_DUPFD_CLOEXEC, 100), 101);
  EXPECT_EQ(Linux(a(), SYS_fcntl, 101, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(Linux(a(), SYS_dup3, w, 200, O_CLOEXEC), 200);
  EXPECT_EQ(Linux(a(), SYS_fcntl, 200, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_DUPFD, DescriptorTable::kSize), -EINVAL);
  EXPECT_EQ(Linux(a(), SYS_fcntl, 999, F_GETFD), -EBADF);
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_SETLK, 0), -EINVAL);
  // Status flags are the descriptor's: shared by every slot naming it.
  EXPECT_EQ(Linux(a(), SYS_fcntl, 100, F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(Linux(a(), SYS_fcntl, r, F_GETFL), O_RDONLY | O_NONBLOCK);
  a().table().CloseAll();
}

// Test that lseek, pread64, pwrite64, ftruncate and fsync act on a granted file.
TEST_F(LinuxFilesTest, FileCallsOnAReadWriteGrant) {
  const int d = InstallFile("0123456789", HostIoDescriptor::Access::kReadWrite);
  EXPECT_EQ(Linux(a(), SYS_lseek, d, 4, SEEK_SET), 4);
  std::string got;
  EXPECT_EQ(Read(d, 3, &got), 3);
  EXPECT_EQ(got, "456");
  uint64_t buffer = a().Allocate(4);
  EXPECT_EQ(Linux(a(), SYS_pread64, d, buffer, 4, 1), 4);
  EXPECT_EQ(a().GetString(buffer, 4), "1234");
  EXPECT_EQ(Linux(a(), SYS_lseek, d, 0, SEEK_CUR), 7);  // pread left the offset alone.
  EXPECT_EQ(Linux(a(), SYS_pwrite64, d, a().PutString("AB"), 2, 0), 2);
  EXPECT_EQ(Linux(a(), SYS_ftruncate, d, 5), 0);
  EXPECT_EQ(Linux(a(), SYS_lseek, d, 0, SEEK_END), 5);
  EXPECT_EQ(Linux(a(), SYS_pread64, d, buffer, 4, 0), 4);
  EXPECT_EQ(a().GetString(buffer, 4), "AB23");
  EXPECT_EQ(Linux(a(), SYS_fsync, d), 0);
  EXPECT_EQ(Linux(a(), SYS_fdatasync, d), 0);
  EXPECT_EQ(Linux(a(), SYS_pread64, d, buffer, 4, static_cast<uint64_t>(-1)), -EINVAL);
  EXPECT_EQ(Linux(a(), SYS_ftruncate, d, static_cast<uint64_t>(-1)), -EINVAL);
  a().table().CloseAll();
}

// Test that a read-only grant cannot pwrite (EBADF) nor ftruncate (EINVAL), as Linux answers
// for an fd not open for writing, and that the file is unchanged.
TEST_F(LinuxFilesTest, ReadOnlyGrantCannotWrite) {
  const int d = InstallFile("abc", HostIoDescriptor::Access::kReadOnly);
  EXPECT_EQ(Linux(a(), SYS_fcntl, d, F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(Linux(a(), SYS_pwrite64, d, a().PutString("X"), 1, 0), -EBADF);
  EXPECT_EQ(Linux(a(), SYS_ftruncate, d, 0), -EINVAL);
  uint64_t buffer = a().Allocate(8);
  EXPECT_EQ(Linux(a(), SYS_pread64, d, buffer, 8, 0), 3);
  EXPECT_EQ(a().GetString(buffer, 3), "abc");
  a().table().CloseAll();
}

// Test that the module's O_APPEND makes each write append, without setting O_APPEND on the
// host fd.
TEST_F(LinuxFilesTest, AppendIsTheModulesOwn) {
  const int d = InstallFile("start", HostIoDescriptor::Access::kReadWrite);
  ASSERT_EQ(Linux(a(), SYS_fcntl, d, F_SETFL, O_APPEND), 0);
  EXPECT_EQ(Linux(a(), SYS_fcntl, d, F_GETFL), O_RDWR | O_APPEND);
  auto* host = static_cast<HostIoDescriptor*>(a().table().Get(d).get());
  EXPECT_EQ(fcntl(host->fd(), F_GETFL) & O_APPEND, 0);
  EXPECT_EQ(Write(d, "+end"), 4);
  uint64_t buffer = a().Allocate(16);
  EXPECT_EQ(Linux(a(), SYS_pread64, d, buffer, 16, 0), 9);
  EXPECT_EQ(a().GetString(buffer, 9), "start+end");
  a().table().CloseAll();
}

// Test that on the loader's nonblocking first attempt a read of an empty pipe the module made
// nonblocking answers EAGAIN at once, with no hand-off, on the loader's own pipe (nonblocking
// on the host) and on a granted blocking one; a blocking read answers kWouldBlock instead, so
// that the loader moves it to a worker.
TEST_F(LinuxFilesTest, AttemptAnswersTheModulesOwnEagainAndHandsOffTheRest) {
  int host[2];
  ASSERT_EQ(pipe2(host, O_CLOEXEC), 0);
  base::UniqueFd host_writer(host[1]);
  const int granted = a().table().Install(std::make_shared<HostIoDescriptor>(
      base::UniqueFd(host[0]), HostIoDescriptor::Access::kReadOnly));
  auto [own, own_writer] = Pipe();
  CallContext context = a().Context();
  context.nonblocking_attempt = true;
  const uint64_t buffer = a().Allocate(8);
  auto read = [&](int d) {
    return SyscallTable::LinuxDescriptorCalls().Dispatch(
        context, SYS_read, SyscallArgs{{uint64_t(d), buffer, 8, 0, 0, 0}});
  };
  EXPECT_EQ(read(granted), kWouldBlock);
  EXPECT_EQ(read(own), kWouldBlock);
  ASSERT_EQ(Linux(a(), SYS_fcntl, granted, F_SETFL, O_NONBLOCK), 0);
  ASSERT_EQ(Linux(a(), SYS_fcntl, own, F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(read(granted), -EAGAIN);
  EXPECT_EQ(read(own), -EAGAIN);
  // Input ready on a granted pipe: the attempt still moves the transfer off the thread.
  ASSERT_EQ(write(host_writer.get(), "ab", 2), 2);
  EXPECT_EQ(read(granted), kWouldBlock);
  ASSERT_EQ(Write(own_writer, "cd"), 2);
  EXPECT_EQ(read(own), 2);
  a().table().CloseAll();
}

// Test that fsync of a file is never run on the loader's nonblocking first attempt (it may
// take long): the attempt answers kWouldBlock, so the loader moves the call to a worker.
TEST_F(LinuxFilesTest, FsyncLeavesTheReceivingThread) {
  const int d = InstallFile("x", HostIoDescriptor::Access::kReadWrite);
  CallContext context = a().Context();
  context.nonblocking_attempt = true;
  EXPECT_EQ(SyscallTable::LinuxDescriptorCalls().Dispatch(
                context, SYS_fsync, SyscallArgs{{uint64_t(d), 0, 0, 0, 0, 0}}),
            kWouldBlock);
  a().table().CloseAll();
}

}  // namespace
}  // namespace syscalls
