#include "syscalls/test_module.h"

#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <utility>

#include "base/unique_fd.h"
#include "imc/message_socket.h"
#include "syscalls/descriptor_types.h"

namespace syscalls {
namespace {

constexpr size_t kAlignment = 16;

size_t RoundUp(size_t size) { return (size + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

int64_t FakeModuleControl::Exit(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  exit_status_ = status;
  return 0;
}

int64_t FakeModuleControl::PlaceFd(uint64_t call, int host_fd, int number) {
  std::lock_guard<std::mutex> lock(mu_);
  last_placement_ = Placement{call, host_fd, number};
  return 0;
}

int64_t FakeModuleControl::ReleaseFd(uint64_t, int number) {
  std::lock_guard<std::mutex> lock(mu_);
  released_.push_back(number);
  return 0;
}

std::vector<int> FakeModuleControl::released() const {
  std::lock_guard<std::mutex> lock(mu_);
  return released_;
}

absl::optional<int> FakeModuleControl::exit_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return exit_status_;
}

absl::optional<FakeModuleControl::Placement> FakeModuleControl::last_placement() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_placement_;
}

TestModule::TestModule(uint64_t base, size_t size) : memory_(base, size) {
  // Offset 0 is never handed out, so that Allocate() can report exhaustion as address 0
  // even for a module based at 0.
  if (size > kAlignment) free_[kAlignment] = (size - kAlignment) / kAlignment * kAlignment;
}

TestModule::~TestModule() {
  // Close the descriptors before the cancellations that calls may still refer to.
  table_.CloseAll();
}

const imc::Cancellation* TestModule::ThreadCancellation() {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cancellations_.find(std::this_thread::get_id());
  if (it == cancellations_.end()) {
    absl::StatusOr<imc::Cancellation> made = imc::Cancellation::Create();
    if (!made.ok()) return nullptr;
    it = cancellations_.emplace(std::this_thread::get_id(), *std::move(made)).first;
  }
  return &it->second;
}

CallContext TestModule::Context() {
  CallContext context;
  context.table = &table_;
  context.memory = &memory_;
  context.module = &control_;
  context.thread_id = static_cast<int64_t>(gettid());
  context.cancellation = ThreadCancellation();
  return context;
}

int64_t TestModule::Call(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                         uint64_t a4, uint64_t a5) {
  const imc::Cancellation* cancellation = ThreadCancellation();
  if (cancellation == nullptr) return -NACL_ABI_EMFILE;
  return CallWithCancellation(cancellation, number, SyscallArgs{{a0, a1, a2, a3, a4, a5}});
}

int64_t TestModule::CallLinux(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                              uint64_t a4, uint64_t a5) {
  CallContext context = Context();
  if (context.cancellation == nullptr) return -EMFILE;
  return SyscallTable::LinuxDescriptorCalls().Dispatch(context, number,
                                                       SyscallArgs{{a0, a1, a2, a3, a4, a5}});
}

int64_t TestModule::CallWithCancellation(const imc::Cancellation* cancellation, uint64_t number,
                                         const SyscallArgs& args) {
  CallContext context;
  context.table = &table_;
  context.memory = &memory_;
  context.module = &control_;
  context.thread_id = static_cast<int64_t>(gettid());
  context.cancellation = cancellation;
  return SyscallTable::Nacl().Dispatch(context, number, args);
}

uint64_t TestModule::Allocate(size_t size) {
  size = RoundUp(std::max<size_t>(size, 1));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < size) continue;
    const uint64_t offset = it->first;
    const size_t left = it->second - size;
    free_.erase(it);
    if (left > 0) free_[offset + size] = left;
    used_[offset] = size;
    memset(memory_.data() + offset, 0, size);
    return memory_.AddressOf(offset);
  }
  return 0;
}

void TestModule::Free(uint64_t address) {
  if (address < memory_.base()) return;
  const uint64_t offset = address - memory_.base();
  std::lock_guard<std::mutex> lock(mu_);
  auto used = used_.find(offset);
  if (used == used_.end()) return;
  uint64_t start = offset;
  size_t size = used->second;
  used_.erase(used);
  // Merge with the free neighbours.
  auto next = free_.lower_bound(start);
  if (next != free_.end() && next->first == start + size) {
    size += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto previous = std::prev(next);
    if (previous->first + previous->second == start) {
      start = previous->first;
      size += previous->second;
      free_.erase(previous);
    }
  }
  free_[start] = size;
}

uint64_t TestModule::Put(const void* data, size_t size) {
  uint64_t address = Allocate(size);
  if (address != 0 && size > 0) memory_.Write(address, data, size);
  return address;
}

std::string TestModule::GetString(uint64_t address, size_t size) {
  std::string bytes(size, '\0');
  memory_.Read(address, bytes.data(), size);
  return bytes;
}

uint64_t TestModule::PutIovecs(absl::Span<const NaClAbiNaClImcMsgIoVec> iov) {
  return Put(iov.data(), iov.size() * sizeof(iov[0]));
}

uint64_t TestModule::PutHeader(uint64_t iov, size_t iov_length, uint64_t descv, size_t desc_length,
                               int flags) {
  NaClAbiNaClImcMsgHdr header;
  memset(&header, 0, sizeof(header));
  header.iov = reinterpret_cast<NaClAbiNaClImcMsgIoVec*>(static_cast<uintptr_t>(iov));
  header.iov_length = iov_length;
  header.descv = reinterpret_cast<int*>(static_cast<uintptr_t>(descv));
  header.desc_length = desc_length;
  header.flags = flags;
  return PutValue(header);
}

NaClAbiNaClImcMsgIoVec TestModule::Iovec(uint64_t address, size_t length) {
  return {reinterpret_cast<void*>(static_cast<uintptr_t>(address)), length};
}

TestModule::Pair TestModule::MakeBoundSocket() {
  Pair pair;
  int init[2] = {-1, -1};
  uint64_t out = PutValue(init);
  pair.result = Call(NACL_sys_imc_makeboundsock, out);
  pair.first = GetValue<int>(out);
  pair.second = GetValue<int>(out + sizeof(int));
  Free(out);
  return pair;
}

TestModule::Pair TestModule::SocketPair() {
  Pair pair;
  int init[2] = {-1, -1};
  uint64_t out = PutValue(init);
  pair.result = Call(NACL_sys_imc_socketpair, out);
  pair.first = GetValue<int>(out);
  pair.second = GetValue<int>(out + sizeof(int));
  Free(out);
  return pair;
}

TestModule::Pair TestModule::ConnectedPair() {
  Pair pair;
  Pair bound = MakeBoundSocket();
  if (bound.result != 0) {
    pair.result = bound.result;
    return pair;
  }
  int64_t connected = Call(NACL_sys_imc_connect, static_cast<uint64_t>(bound.second));
  int64_t accepted =
      connected < 0 ? connected : Call(NACL_sys_imc_accept, static_cast<uint64_t>(bound.first));
  Call(NACL_sys_close, static_cast<uint64_t>(bound.first));
  Call(NACL_sys_close, static_cast<uint64_t>(bound.second));
  if (connected < 0 || accepted < 0) {
    if (connected >= 0) Call(NACL_sys_close, static_cast<uint64_t>(connected));
    pair.result = connected < 0 ? connected : accepted;
    return pair;
  }
  pair.first = static_cast<int>(connected);
  pair.second = static_cast<int>(accepted);
  return pair;
}

uint32_t TestModule::StatMode(int d) {
  uint64_t st = Allocate(sizeof(nacl_abi_stat));
  int64_t result = Call(NACL_sys_fstat, static_cast<uint64_t>(d), st);
  uint32_t mode = result == 0 ? GetValue<nacl_abi_stat>(st).nacl_abi_st_mode : 0;
  Free(st);
  return mode;
}

int64_t TestModule::SendMsg(int d, absl::string_view bytes, absl::Span<const int> descv,
                            int flags) {
  uint64_t data = PutString(bytes);
  uint64_t iov = PutValue(Iovec(data, bytes.size()));
  uint64_t descv_address = Put(descv.data(), descv.size() * sizeof(int));
  uint64_t header = PutHeader(iov, 1, descv_address, descv.size());
  int64_t result =
      Call(NACL_sys_imc_sendmsg, static_cast<uint64_t>(d), header, static_cast<uint64_t>(flags));
  Free(header);
  Free(descv_address);
  Free(iov);
  Free(data);
  return result;
}

TestModule::Received TestModule::RecvMsg(int d, size_t room, size_t desc_room, int flags) {
  uint64_t data = Allocate(room);
  uint64_t iov = PutValue(Iovec(data, room));
  std::vector<int> sentinel(desc_room, 0x7eadbeef);
  uint64_t descv = Put(sentinel.data(), desc_room * sizeof(int));
  uint64_t header = PutHeader(iov, 1, descv, desc_room, /*flags=*/0x7700);
  Received received;
  received.result =
      Call(NACL_sys_imc_recvmsg, static_cast<uint64_t>(d), header, static_cast<uint64_t>(flags));
  NaClAbiNaClImcMsgHdr after = GetValue<NaClAbiNaClImcMsgHdr>(header);
  received.flags = after.flags;
  received.desc_length = after.desc_length;
  if (received.result >= 0) {
    received.bytes = GetString(data, static_cast<size_t>(received.result));
    for (size_t i = 0; i < std::min(after.desc_length, desc_room); ++i) {
      received.descv.push_back(GetValue<int>(descv + i * sizeof(int)));
    }
  }
  Free(header);
  Free(descv);
  Free(iov);
  Free(data);
  return received;
}

bool TestModule::Link(TestModule& a, TestModule& b, int* a_end, int* b_end) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) return false;
  base::UniqueFd first(fds[0]);
  base::UniqueFd second(fds[1]);
  absl::StatusOr<imc::ConnectedSocket> a_socket =
      imc::ConnectedSocket::FromHostSocket(std::move(first));
  absl::StatusOr<imc::ConnectedSocket> b_socket =
      imc::ConnectedSocket::FromHostSocket(std::move(second));
  if (!a_socket.ok() || !b_socket.ok()) return false;
  *a_end = a.table().Install(std::make_shared<ConnectedSocketDescriptor>(*std::move(a_socket)));
  *b_end = b.table().Install(std::make_shared<ConnectedSocketDescriptor>(*std::move(b_socket)));
  return *a_end >= 0 && *b_end >= 0;
}

bool IsBlockedInPoll(pid_t tid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", static_cast<int>(tid));
  std::ifstream file(path);
  std::string first;
  if (!(file >> first)) return false;
  // poll(2) is 7 on x86-64; glibc may issue ppoll (271) instead.
  return first == "7" || first == "271";
}

bool WaitUntilBlockedInPoll(pid_t tid, int timeout_ms) {
  for (int waited_ms = 0; waited_ms < timeout_ms; ++waited_ms) {
    if (IsBlockedInPoll(tid)) return true;
    struct timespec one_ms = {0, 1000 * 1000};
    nanosleep(&one_ms, nullptr);
  }
  return false;
}

}  // namespace syscalls
