#include "imc/shared_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd_count.h"
#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace imc {
namespace {

using ::base::HasErrno;
using ::base::UniqueFd;

// Test that Create makes a zero-filled memfd of the size asked for, sealed against resizing.
TEST(SharedMemoryTest, CreateMakesSealedZeroFilledMemory) {
  absl::StatusOr<SharedMemory> memory = SharedMemory::Create(65536);
  ASSERT_OK(memory);
  EXPECT_EQ(memory->size(), 65536u);
  struct stat st;
  ASSERT_EQ(fstat(memory->fd(), &st), 0);
  EXPECT_EQ(st.st_size, 65536);
  int seals = fcntl(memory->fd(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  EXPECT_EQ(fcntl(memory->fd(), F_GETFD), FD_CLOEXEC);
  void* map = mmap(nullptr, 65536, PROT_READ, MAP_SHARED, memory->fd(), 0);
  ASSERT_NE(map, MAP_FAILED);
  const char* bytes = static_cast<const char*>(map);
  for (size_t i = 0; i < 65536; ++i) ASSERT_EQ(bytes[i], 0) << i;
  munmap(map, 65536);
}

// Test that a created object cannot be shrunk, grown or have its seals removed.
TEST(SharedMemoryTest, SizeCannotChange) {
  absl::StatusOr<SharedMemory> memory = SharedMemory::Create(4096);
  ASSERT_OK(memory);
  EXPECT_NE(ftruncate(memory->fd(), 0), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(ftruncate(memory->fd(), 8192), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(fcntl(memory->fd(), F_ADD_SEALS, F_SEAL_WRITE), 0);
}

// Test that size 0 is EINVAL and opens no fd.
TEST(SharedMemoryTest, ZeroSizeIsEinval) {
  const int before = base::CountOpenFds();
  EXPECT_THAT(SharedMemory::Create(0), HasErrno(EINVAL));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that a size beyond what a file offset can hold is EINVAL and opens no fd.
TEST(SharedMemoryTest, HugeSizeIsEinval) {
  const int before = base::CountOpenFds();
  EXPECT_THAT(SharedMemory::Create(~size_t{0}), HasErrno(EINVAL));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that writes through one mapping are seen through another mapping of the same object.
TEST(SharedMemoryTest, MappingsShareContents) {
  absl::StatusOr<SharedMemory> memory = SharedMemory::Create(65536);
  ASSERT_OK(memory);
  void* writer = mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, memory->fd(), 0);
  ASSERT_NE(writer, MAP_FAILED);
  void* reader = mmap(nullptr, 65536, PROT_READ, MAP_SHARED, memory->fd(), 0);
  ASSERT_NE(reader, MAP_FAILED);
  memcpy(static_cast<char*>(writer) + 65000, "shared", 7);
  EXPECT_STREQ(static_cast<const char*>(reader) + 65000, "shared");
  munmap(writer, 65536);
  munmap(reader, 65536);
}

// Test that FromFd adopts a size-sealed memfd and reads its size.
TEST(SharedMemoryTest, FromFdAdoptsSealedMemfd) {
  absl::StatusOr<SharedMemory> original = SharedMemory::Create(3 * 4096);
  ASSERT_OK(original);
  UniqueFd copy(fcntl(original->fd(), F_DUPFD_CLOEXEC, 0));
  ASSERT_TRUE(copy.valid());
  const int copy_fd = copy.get();
  absl::StatusOr<SharedMemory> adopted = SharedMemory::FromFd(std::move(copy));
  ASSERT_OK(adopted);
  EXPECT_EQ(adopted->fd(), copy_fd);
  EXPECT_EQ(adopted->size(), 3u * 4096);
}

// Test that FromFd refuses an unsealed memfd and a pipe with EPROTO, and closes them.
TEST(SharedMemoryTest, FromFdRefusesOtherFds) {
  const int before = base::CountOpenFds();
  UniqueFd unsealed(memfd_create("shared_memory_test", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_TRUE(unsealed.valid());
  ASSERT_EQ(ftruncate(unsealed.get(), 4096), 0);
  EXPECT_THAT(SharedMemory::FromFd(std::move(unsealed)), HasErrno(EPROTO));
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  close(pipe_fds[1]);
  EXPECT_THAT(SharedMemory::FromFd(UniqueFd(pipe_fds[0])), HasErrno(EPROTO));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

}  // namespace
}  // namespace imc
