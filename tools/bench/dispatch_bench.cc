// dispatch_bench: the cost of the syscall layer's dispatch table itself, in process: the NaCl
// null call through SyscallTable::Nacl().Dispatch() against a plain call of its handler,
// measured in the same run. See --help, and bench_runner.h for how figures are measured.
#include <stdint.h>

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "syscalls/call_context.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/handlers.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/syscall_table.h"
#include "syscalls/untrusted_memory.h"
#include "tools/bench/bench_runner.h"

namespace {

// The module address space of the context: one page, unused by the null call but there as
// it is for every served call.
constexpr uint64_t kMemoryBase = 0x10000;
constexpr size_t kMemoryBytes = 4096;

// Makes the compiler assume `value` is read and changed here, so that it can neither hoist
// the work that produces it out of the loop nor drop it.
template <typename T>
inline void Opaque(T& value) {
  asm volatile("" : "+m"(value) : : "memory");
}

// What a call sees: a descriptor table and an untrusted memory, as the supervisor gives it.
class NullCalls : public bench::Workload {
 public:
  absl::Status SetUp() override {
    memory_ = std::make_unique<syscalls::BufferMemory>(kMemoryBase, kMemoryBytes);
    context_.table = &table_;
    context_.memory = memory_.get();
    return absl::OkStatus();
  }

 protected:
  // Makes `iterations` null calls with `call(context, args)`; an error if any failed.
  template <typename Call>
  absl::Status Loop(int64_t iterations, Call call) const {
    int64_t failures = 0;
    for (int64_t i = 0; i < iterations; ++i) {
      syscalls::SyscallArgs args = {{0, 0, 0, 0, 0, 0}};
      Opaque(args);
      int64_t result = call(context_, args);
      Opaque(result);
      failures += result != 0;
    }
    if (failures != 0) return absl::InternalError(absl::StrCat(failures, " calls failed"));
    return absl::OkStatus();
  }

 private:
  syscalls::CallContext context_;
  syscalls::DescriptorTable table_;
  std::unique_ptr<syscalls::BufferMemory> memory_;
};

// Ours: the number through the table, as the supervisor dispatches every NaCl call.
class DispatchedNullCalls final : public NullCalls {
 public:
  absl::Status Run(int64_t iterations) override {
    return Loop(iterations,
                [](const syscalls::CallContext& context, const syscalls::SyscallArgs& args) {
                  return syscalls::SyscallTable::Nacl().Dispatch(context, NACL_sys_null, args);
                });
  }
};

// The baseline: the handler called directly. Through a volatile function pointer, so that
// the compiler can neither inline nor elide the call, whatever it can see of the handler.
class DirectNullCalls final : public NullCalls {
 public:
  absl::Status Run(int64_t iterations) override {
    return Loop(iterations,
                [this](const syscalls::CallContext& context, const syscalls::SyscallArgs& args) {
                  return handler_(context, args);
                });
  }

 private:
  syscalls::SyscallHandler volatile handler_ = syscalls::SysNull;
};

std::vector<bench::Comparison> MakeComparisons(const bench::Placement&) {
  std::vector<bench::Comparison> comparisons;
  comparisons.push_back(
      {"null_syscall_dispatch",
       "the NaCl null call through SyscallTable::Nacl().Dispatch() with a CallContext holding "
       "a DescriptorTable and a BufferMemory vs the handler (SysNull) called directly through "
       "a volatile function pointer",
       std::make_unique<DispatchedNullCalls>(), std::make_unique<DirectNullCalls>()});
  return comparisons;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::BenchMain(
      argc, argv,
      {"dispatch_bench",
       "Measures the syscall layer's dispatch table in process, against a direct call of the\n"
       "handler, in the same run. Figures are nanoseconds per call; the goal is under 50 ns\n"
       "per dispatch."},
      MakeComparisons);
}
