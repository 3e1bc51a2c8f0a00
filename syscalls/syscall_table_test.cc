#include "syscalls/syscall_table.h"

#include <stdint.h>

#include "gtest/gtest.h"
#include "syscalls/module_test_base.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/test_module.h"

namespace syscalls {
namespace {

using SyscallTableTest = ModuleTestBase;

// Test that numbers without a NaCl call, including huge ones, answer -ENOSYS.
TEST_F(SyscallTableTest, UnknownNumbersAreEnosys) {
  for (uint64_t number :
       {uint64_t{0}, uint64_t{2}, uint64_t{10}, uint64_t{59}, uint64_t{67},
        uint64_t{NACL_ABI_SYSCALL_COUNT - 1}, uint64_t{NACL_ABI_SYSCALL_COUNT},
        uint64_t{NACL_ABI_SYSCALL_BASE + NACL_sys_null}, uint64_t{1} << 32, ~uint64_t{0}}) {
    SCOPED_TRACE(number);
    EXPECT_EQ(a().Call(number, 1, 2, 3, 4, 5, 6), -NACL_ABI_ENOSYS);
    EXPECT_EQ(SyscallTable::Nacl().Name(number), nullptr);
  }
}

// Test that an empty table answers -ENOSYS even for the NaCl numbers.
TEST_F(SyscallTableTest, EmptyTableIsEnosys) {
  SyscallTable empty;
  CallContext context = a().Context();
  EXPECT_EQ(empty.Dispatch(context, NACL_sys_null, SyscallArgs{}), -NACL_ABI_ENOSYS);
  EXPECT_EQ(empty.Dispatch(context, NACL_sys_imc_makeboundsock, SyscallArgs{}), -NACL_ABI_ENOSYS);
}

// Test that the null call returns 0 whatever its arguments.
TEST_F(SyscallTableTest, NullReturnsZero) {
  EXPECT_EQ(a().Call(NACL_sys_null), 0);
  EXPECT_EQ(a().Call(NACL_sys_null, ~uint64_t{0}, 1, 2, 3, 4, 5), 0);
}

// Test that every call of ABI.md is in the NaCl table under its name.
TEST_F(SyscallTableTest, EveryAbiCallHasItsName) {
  const struct {
    uint64_t number;
    const char* name;
  } calls[] = {
      {NACL_sys_null, "null"},
      {NACL_sys_dup, "dup"},
      {NACL_sys_dup2, "dup2"},
      {NACL_sys_close, "close"},
      {NACL_sys_read, "read"},
      {NACL_sys_write, "write"},
      {NACL_sys_fstat, "fstat"},
      {NACL_sys_mmap, "mmap"},
      {NACL_sys_munmap, "munmap"},
      {NACL_sys_exit, "exit"},
      {NACL_sys_getpid, "getpid"},
      {NACL_sys_imc_makeboundsock, "imc_makeboundsock"},
      {NACL_sys_imc_accept, "imc_accept"},
      {NACL_sys_imc_connect, "imc_connect"},
      {NACL_sys_imc_sendmsg, "imc_sendmsg"},
      {NACL_sys_imc_recvmsg, "imc_recvmsg"},
      {NACL_sys_imc_mem_obj_create, "imc_mem_obj_create"},
      {NACL_sys_imc_socketpair, "imc_socketpair"},
  };
  for (const auto& call : calls) {
    ASSERT_NE(SyscallTable::Nacl().Name(call.number), nullptr) << call.name;
    EXPECT_STREQ(SyscallTable::Nacl().Name(call.number), call.name);
  }
}

// Test that the ABI's numbers are NaCl's.
TEST(NaclAbiTest, NumbersAreNacls) {
  EXPECT_EQ(NACL_sys_null, 1);
  EXPECT_EQ(NACL_sys_dup, 8);
  EXPECT_EQ(NACL_sys_dup2, 9);
  EXPECT_EQ(NACL_sys_close, 11);
  EXPECT_EQ(NACL_sys_read, 12);
  EXPECT_EQ(NACL_sys_write, 13);
  EXPECT_EQ(NACL_sys_fstat, 17);
  EXPECT_EQ(NACL_sys_mmap, 21);
  EXPECT_EQ(NACL_sys_munmap, 22);
  EXPECT_EQ(NACL_sys_exit, 30);
  EXPECT_EQ(NACL_sys_getpid, 31);
  EXPECT_EQ(NACL_sys_imc_makeboundsock, 60);
  EXPECT_EQ(NACL_sys_imc_accept, 61);
  EXPECT_EQ(NACL_sys_imc_connect, 62);
  EXPECT_EQ(NACL_sys_imc_sendmsg, 63);
  EXPECT_EQ(NACL_sys_imc_recvmsg, 64);
  EXPECT_EQ(NACL_sys_imc_mem_obj_create, 65);
  EXPECT_EQ(NACL_sys_imc_socketpair, 66);
}

}  // namespace
}  // namespace syscalls
