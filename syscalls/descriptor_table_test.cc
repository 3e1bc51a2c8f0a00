// Tests of DescriptorTable: lowest free slot, Dup/Dup2 limits, Close, CloseAll, and installs
// and closes racing from many threads.
#include "syscalls/descriptor_table.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "syscalls/descriptor.h"
#include "syscalls/nacl_abi.h"

namespace syscalls {
namespace {

// A descriptor with no behaviour; its lifetime shows when the table let go of it.
class PlainDescriptor : public Descriptor {
 public:
  PlainDescriptor() : Descriptor(imc::DescriptorKind::kHostIo) {}
};

DescriptorRef Make() { return std::make_shared<PlainDescriptor>(); }

// Test that Install takes the lowest free slot, including one freed below others.
TEST(DescriptorTableTest, InstallTakesLowestFree) {
  DescriptorTable table;
  for (int d = 0; d < 5; ++d) EXPECT_EQ(table.Install(Make()), d);
  EXPECT_EQ(table.Close(1), 0);
  EXPECT_EQ(table.Close(3), 0);
  EXPECT_EQ(table.Install(Make()), 1);
  EXPECT_EQ(table.Install(Make()), 3);
  EXPECT_EQ(table.Install(Make()), 5);
  EXPECT_EQ(table.OpenCount(), 6u);
}

// Test that a full table answers EMFILE to Install and Dup, and takes one again after a
// Close.
TEST(DescriptorTableTest, FullTableIsEmfile) {
  DescriptorTable table;
  DescriptorRef one = Make();
  for (int d = 0; d < DescriptorTable::kSize; ++d) ASSERT_EQ(table.Install(one), d);
  EXPECT_EQ(table.Install(Make()), -NACL_ABI_EMFILE);
  EXPECT_EQ(table.Dup(0), -NACL_ABI_EMFILE);
  EXPECT_EQ(table.Close(77), 0);
  EXPECT_EQ(table.Dup(0), 77);
  EXPECT_EQ(table.OpenCount(), static_cast<size_t>(DescriptorTable::kSize));
}

// Test Dup2's limits: a closed source is EBADF, a target outside the table EINVAL, the last
// slot works, the same slot is a no-op, and the target's old descriptor is released.
TEST(DescriptorTableTest, Dup2Limits) {
  DescriptorTable table;
  DescriptorRef first = Make();
  std::weak_ptr<Descriptor> replaced;
  {
    DescriptorRef second = Make();
    replaced = second;
    ASSERT_EQ(table.Install(first), 0);
    ASSERT_EQ(table.Install(std::move(second)), 1);
  }
  EXPECT_EQ(table.Dup2(5, 2), -NACL_ABI_EBADF);
  EXPECT_EQ(table.Dup2(-1, 2), -NACL_ABI_EBADF);
  EXPECT_EQ(table.Dup2(0, -1), -NACL_ABI_EINVAL);
  EXPECT_EQ(table.Dup2(0, DescriptorTable::kSize), -NACL_ABI_EINVAL);
  EXPECT_EQ(table.Dup2(0, DescriptorTable::kSize - 1), DescriptorTable::kSize - 1);
  EXPECT_EQ(table.Get(DescriptorTable::kSize - 1), first);
  EXPECT_EQ(table.Dup2(0, 0), 0);
  EXPECT_EQ(table.Get(0), first);
  EXPECT_FALSE(replaced.expired());
  EXPECT_EQ(table.Dup2(0, 1), 1);
  EXPECT_TRUE(replaced.expired());
  EXPECT_EQ(table.Get(1), first);
  EXPECT_EQ(table.OpenCount(), 3u);
}

// Test that Close of a closed or out-of-range slot is EBADF, and that a descriptor lives
// until its last slot closes.
TEST(DescriptorTableTest, Close) {
  DescriptorTable table;
  std::weak_ptr<Descriptor> watched;
  {
    DescriptorRef descriptor = Make();
    watched = descriptor;
    ASSERT_EQ(table.Install(descriptor), 0);
    ASSERT_EQ(table.Dup(0), 1);
  }
  EXPECT_EQ(table.Close(0), 0);
  EXPECT_EQ(table.Close(0), -NACL_ABI_EBADF);
  EXPECT_EQ(table.Close(-1), -NACL_ABI_EBADF);
  EXPECT_EQ(table.Close(DescriptorTable::kSize), -NACL_ABI_EBADF);
  EXPECT_EQ(table.Close(4000), -NACL_ABI_EBADF);
  EXPECT_FALSE(watched.expired());
  EXPECT_EQ(table.Close(1), 0);
  EXPECT_TRUE(watched.expired());
  EXPECT_EQ(table.Get(1), nullptr);
  EXPECT_EQ(table.OpenCount(), 0u);
}

// Test that CloseAll empties the table, releases every descriptor, and leaves it usable.
TEST(DescriptorTableTest, CloseAll) {
  DescriptorTable table;
  std::vector<std::weak_ptr<Descriptor>> watched;
  for (int i = 0; i < 10; ++i) {
    DescriptorRef descriptor = Make();
    watched.push_back(descriptor);
    ASSERT_EQ(table.InstallAt(i * 3, std::move(descriptor)), i * 3);
  }
  table.CloseAll();
  EXPECT_EQ(table.OpenCount(), 0u);
  for (const auto& w : watched) EXPECT_TRUE(w.expired());
  EXPECT_EQ(table.Install(Make()), 0);
  EXPECT_EQ(table.InstallAt(DescriptorTable::kSize, Make()), -NACL_ABI_EINVAL);
}

// Test that threads installing, reading, duplicating and closing at once each see their own
// descriptor in the slots they were given, and that the table ends empty with every
// descriptor released.
TEST(DescriptorTableTest, ConcurrentInstallAndClose) {
  DescriptorTable table;
  constexpr int kThreads = 8;
  constexpr int kRounds = 2000;
  std::atomic<int> wrong{0};
  std::vector<std::weak_ptr<Descriptor>> watched(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    DescriptorRef mine = Make();
    watched[t] = mine;
    threads.emplace_back([&table, &wrong, mine = std::move(mine)] {
      for (int round = 0; round < kRounds; ++round) {
        const int d = table.Install(mine);
        if (d < 0) {
          ++wrong;
          continue;
        }
        const int copy = table.Dup(d);
        if (table.Get(d) != mine || copy < 0 || table.Get(copy) != mine) ++wrong;
        if (table.Close(d) != 0) ++wrong;
        if (copy >= 0 && table.Close(copy) != 0) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(table.OpenCount(), 0u);
  EXPECT_EQ(table.Install(Make()), 0);  // The lowest-free hint came back down.
  table.CloseAll();
  for (const auto& w : watched) EXPECT_TRUE(w.expired());
}

}  // namespace
}  // namespace syscalls
