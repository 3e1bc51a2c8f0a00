// Test support: a gtest fixture with two simulated modules and descriptor accounting.
//
// SetUp() counts the host fds; TearDown() destroys both modules (closing their tables) and
// checks that the count is back where it started. Tests join every thread they start.
#ifndef SYSCALLS_MODULE_TEST_BASE_H_
#define SYSCALLS_MODULE_TEST_BASE_H_

#include <memory>

#include "base/fd_count.h"
#include "gtest/gtest.h"
#include "syscalls/test_module.h"

namespace syscalls {

class ModuleTestBase : public ::testing::Test {
 protected:
  // The second module's memory lies elsewhere, so that an address of one module is
  // unmapped in the other.
  static constexpr uint64_t kSecondBase = TestModule::kDefaultBase + 0x10000000;

  void SetUp() override {
    fds_before_ = base::CountOpenFds();
    ASSERT_GE(fds_before_, 0) << "cannot count fds in /proc/self/fd";
    a_ = std::make_unique<TestModule>();
    b_ = std::make_unique<TestModule>(kSecondBase);
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    EXPECT_EQ(base::CountOpenFds(), fds_before_)
        << "host fds leaked or closed by the test; open now: " << base::DescribeOpenFds();
  }

  TestModule& a() { return *a_; }
  TestModule& b() { return *b_; }

 private:
  int fds_before_ = -1;
  std::unique_ptr<TestModule> a_;
  std::unique_ptr<TestModule> b_;
};

}  // namespace syscalls

#endif  // SYSCALLS_MODULE_TEST_BASE_H_
