// Test support: a simulated module for driving the dispatch table in-process.
//
// A TestModule owns what the loader keeps for one module: a DescriptorTable, a BufferMemory
// standing in for the module's address space (with an allocator of module addresses), a
// fake ModuleControl, and one imc::Cancellation per calling thread (as the loader gives each
// module thread its own). Calls go through SyscallTable::Nacl().Dispatch(), exactly as the
// loader's would; the helpers only lay out the untrusted structures in module memory and
// read the results back.
#ifndef SYSCALLS_TEST_MODULE_H_
#define SYSCALLS_TEST_MODULE_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "imc/cancellation.h"
#include "syscalls/call_context.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/syscall_table.h"
#include "syscalls/untrusted_memory.h"

namespace syscalls {

// A ModuleControl that records what the module asked for.
class FakeModuleControl : public ModuleControl {
 public:
  // What GetPid() answers.
  static constexpr int64_t kPid = 4242;

  // A host fd placed in the module's process.
  struct Placement {
    uint64_t call;
    int host_fd;
    int number;
  };

  // Records `status`; returns 0.
  int64_t Exit(int status) override;
  // Returns kPid.
  int64_t GetPid() override { return kPid; }
  // Records the placement; returns 0.
  int64_t PlaceFd(uint64_t call, int host_fd, int number) override;
  // Records the release; returns 0.
  int64_t ReleaseFd(uint64_t call, int number) override;

  // The status of the last Exit(), if any.
  absl::optional<int> exit_status() const;
  // The last placement, if any.
  absl::optional<Placement> last_placement() const;
  // The numbers released, in order.
  std::vector<int> released() const;

 private:
  mutable std::mutex mu_;
  absl::optional<int> exit_status_;
  absl::optional<Placement> last_placement_;
  std::vector<int> released_;
};

class TestModule {
 public:
  static constexpr uint64_t kDefaultBase = 0x10000000;
  static constexpr size_t kDefaultSize = 1 << 20;
  // An address outside every TestModule's memory (unless placed there on purpose).
  static constexpr uint64_t kUnmapped = 0x1000;

  explicit TestModule(uint64_t base = kDefaultBase, size_t size = kDefaultSize);
  TestModule(const TestModule&) = delete;
  TestModule& operator=(const TestModule&) = delete;
  ~TestModule();

  DescriptorTable& table() { return table_; }
  BufferMemory& memory() { return memory_; }
  FakeModuleControl& control() { return control_; }

  // The calling thread's cancellation signal (made on first use, kept until the module is
  // destroyed), or null if it cannot be made.
  const imc::Cancellation* ThreadCancellation();
  // The context of a call made by the calling thread.
  CallContext Context();

  // Dispatches NaCl call `number` from the calling thread; returns the handler's result.
  int64_t Call(uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
               uint64_t a4 = 0, uint64_t a5 = 0);
  // Dispatches Linux call `number` (SyscallTable::LinuxDescriptorCalls) from the calling
  // thread, as call `call_id`.
  int64_t CallLinux(uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
                    uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0);
  // Dispatches with an explicit cancellation signal (may be null: the call then only ends by
  // itself).
  int64_t CallWithCancellation(const imc::Cancellation* cancellation, uint64_t number,
                               const SyscallArgs& args);

  // Module memory. Allocate returns the module address of `size` fresh zeroed bytes
  // (16-byte aligned), or 0 if the memory is exhausted. Thread-safe.
  uint64_t Allocate(size_t size);
  // Returns an allocation to the free pool.
  void Free(uint64_t address);
  // Allocates and fills module memory; returns its address (0 if exhausted).
  uint64_t Put(const void* data, size_t size);
  uint64_t PutString(absl::string_view bytes) { return Put(bytes.data(), bytes.size()); }
  template <typename T>
  uint64_t PutValue(const T& value) {
    return Put(&value, sizeof(value));
  }
  // Reads module memory (zeroes if out of range).
  std::string GetString(uint64_t address, size_t size);
  template <typename T>
  T GetValue(uint64_t address) {
    T value;
    memset(&value, 0, sizeof(value));
    memory_.Read(address, &value, sizeof(value));
    return value;
  }

  // Lays out an iovec array / a message header in module memory; returns its address.
  uint64_t PutIovecs(absl::Span<const NaClAbiNaClImcMsgIoVec> iov);
  uint64_t PutHeader(uint64_t iov, size_t iov_length, uint64_t descv, size_t desc_length,
                     int flags = 0);
  // An iovec naming module address `address` (no memory is touched).
  static NaClAbiNaClImcMsgIoVec Iovec(uint64_t address, size_t length);

  // imc_makeboundsock / imc_socketpair: the call's result and the two descriptors it wrote.
  struct Pair {
    int64_t result = 0;
    int first = -1;
    int second = -1;
  };
  // first = BoundSocket, second = SocketAddress.
  Pair MakeBoundSocket();
  Pair SocketPair();
  // Two ConnectedSockets of this module joined to each other: makeboundsock, connect,
  // accept (connect only queues its request, so no thread is needed), then the BoundSocket
  // and SocketAddress are closed. first = the connecting end, second = the accepted end.
  Pair ConnectedPair();

  // fstat's st_mode, or 0 if fstat failed.
  uint32_t StatMode(int d);

  // imc_sendmsg of `bytes` (one iovec) and `descv`; returns the call's result.
  int64_t SendMsg(int d, absl::string_view bytes, absl::Span<const int> descv = {}, int flags = 0);

  struct Received {
    int64_t result = 0;
    std::string bytes;       // The bytes the call stored (result of them, if non-negative).
    std::vector<int> descv;  // The first header.desc_length entries after the call.
    int flags = 0;           // The header's flags after the call.
    size_t desc_length = 0;  // The header's desc_length after the call.
  };
  // imc_recvmsg with one iovec of `room` bytes and `desc_room` descriptor slots. NONBLOCK
  // unless `flags` says otherwise, so that a test whose message never came fails (EAGAIN)
  // instead of hanging.
  Received RecvMsg(int d, size_t room = NACL_ABI_IMC_USER_BYTES_MAX,
                   size_t desc_room = NACL_ABI_IMC_DESC_MAX, int flags = NACL_ABI_IMC_NONBLOCK);

  // Installs one end of a new host IMC socketpair in each module, as the loader's `-i` does
  // (ConnectedSockets). Returns false if the socketpair could not be made.
  static bool Link(TestModule& a, TestModule& b, int* a_end, int* b_end);

 private:
  DescriptorTable table_;
  BufferMemory memory_;
  FakeModuleControl control_;

  std::mutex mu_;
  std::map<std::thread::id, imc::Cancellation> cancellations_;  // Guarded by mu_.
  std::map<uint64_t, size_t> free_;                             // Offset -> size.
  std::map<uint64_t, size_t> used_;                             // Offset -> size.
};

// Waits until thread `tid` of this process sleeps in poll(2), as a call blocked in imc
// waits; returns false after `timeout_ms`.
bool WaitUntilBlockedInPoll(pid_t tid, int timeout_ms = 10000);

// True if thread `tid` of this process sleeps in poll(2) right now.
bool IsBlockedInPoll(pid_t tid);

}  // namespace syscalls

#endif  // SYSCALLS_TEST_MODULE_H_
