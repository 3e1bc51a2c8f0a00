// libFuzzer target: the input is a short program of NaCl calls run through the dispatch table
// against one or two simulated modules. Call numbers come from the ABI's list or are raw;
// the six arguments may be descriptor numbers, addresses inside (or just outside) a module's
// memory, boundary constants or raw values; module memory is written by the program too.
//
// Whatever the input, the dispatch table must not crash, hang or leak a host fd. No call may
// block: every call that could wait gets a cancellation signal that is already raised, so
// it fails (EINTR) wherever it would have waited, and the only HostIo descriptors are
// /dev/null, which never blocks.
//
// Set DISPATCH_FUZZER_TRACE=1 to print every call and its result.
//
// Program format (every read past the end of the input yields zeroes):
//   byte 0: bit 0 = two modules, linked by a ConnectedSocket at descriptor 3 of each.
//   then up to kMaxOps operations: one opcode byte (bit 0 picks the module, the rest the
//   operation) followed by the operation's operands.
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <memory>

#include "absl/types/span.h"
#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "imc/cancellation.h"
#include "syscalls/descriptor_types.h"
#include "syscalls/fuzz_input.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/syscall_table.h"
#include "syscalls/test_module.h"

namespace syscalls {
namespace {

constexpr size_t kMaxOps = 64;
constexpr uint64_t kBases[2] = {0x10000000, 0x20000000};
constexpr size_t kMemorySize = 320 * 1024;  // Room for one message over the byte limit.

// Fixed places in module memory for the structured operations.
constexpr size_t kHeaderOffset = 0x100;
constexpr size_t kDescvOffset = 0x200;
constexpr size_t kIovOffset = 0x300;    // Up to 257 iovecs.
constexpr size_t kDataOffset = 0x2000;  // Message bytes.

constexpr uint64_t kKnownNumbers[] = {
    NACL_sys_null,
    NACL_sys_dup,
    NACL_sys_dup2,
    NACL_sys_close,
    NACL_sys_read,
    NACL_sys_write,
    NACL_sys_fstat,
    NACL_sys_mmap,
    NACL_sys_munmap,
    NACL_sys_exit,
    NACL_sys_getpid,
    NACL_sys_imc_makeboundsock,
    NACL_sys_imc_accept,
    NACL_sys_imc_connect,
    NACL_sys_imc_sendmsg,
    NACL_sys_imc_recvmsg,
    NACL_sys_imc_mem_obj_create,
    NACL_sys_imc_socketpair,
    0,
    127,
    128,
};

constexpr uint64_t kSpecialValues[] = {
    0,
    1,
    ~uint64_t{0},  // -1
    ~uint64_t{1},  // -2
    8,
    9,
    255,
    256,
    257,
    NACL_ABI_MAP_PAGESIZE,
    NACL_ABI_MAP_PAGESIZE + 1,
    NACL_ABI_IMC_USER_BYTES_MAX,
    NACL_ABI_IMC_USER_BYTES_MAX + 1,
    NACL_ABI_DESCRIPTOR_TABLE_SIZE - 1,
    NACL_ABI_DESCRIPTOR_TABLE_SIZE,
    uint64_t{1} << 31,
    uint64_t{1} << 32,
    uint64_t{1} << 63,
    ~uint64_t{0} - 15,
    uint64_t{64} << 30,
    (uint64_t{64} << 30) + NACL_ABI_MAP_PAGESIZE,
    TestModule::kUnmapped,
};

class Program {
 public:
  Program(FuzzInput input, const imc::Cancellation* raised)
      : input_(input), raised_(raised), module_count_((input_.Byte() & 1) ? 2 : 1) {
    for (int m = 0; m < module_count_; ++m) {
      modules_[m] = std::make_unique<TestModule>(kBases[m], kMemorySize);
      // Descriptors 0, 1, 2: the module's stdio, /dev/null here.
      for (int d = 0; d < 3; ++d) {
        base::UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
        if (!null.valid()) continue;
        modules_[m]->table().Install(std::make_shared<HostIoDescriptor>(
            std::move(null), HostIoDescriptor::Access::kReadWrite));
      }
    }
    if (module_count_ == 2) {
      int a_end;
      int b_end;
      TestModule::Link(*modules_[0], *modules_[1], &a_end, &b_end);
    }
  }

  void Run() {
    for (size_t op = 0; op < kMaxOps && !input_.empty(); ++op) {
      const uint8_t opcode = input_.Byte();
      TestModule& module = *modules_[(opcode & 1) % module_count_];
      switch ((opcode >> 1) % 6) {
        case 0:
        case 1:
          RawCall(module);
          break;
        case 2:
          Poke(module);
          break;
        case 3:
          SendMessage(module);
          break;
        case 4:
          ReceiveMessage(module);
          break;
        case 5:
          MakeObjects(module);
          break;
      }
    }
  }

 private:
  TestModule& Other(const TestModule& module) {
    return module_count_ == 2 && &module == modules_[0].get() ? *modules_[1] : *modules_[0];
  }

  // A descriptor number: mostly small, sometimes anything.
  int Descriptor() {
    uint8_t b = input_.Byte();
    if (b < 0xf0) return static_cast<int>(b % 16) - 1;  // -1 .. 14
    return static_cast<int>(static_cast<uint32_t>(input_.U64()));
  }

  uint64_t Argument(TestModule& module) {
    const uint8_t kind = input_.Byte();
    switch (kind % 8) {
      case 0:
        return static_cast<uint64_t>(static_cast<int64_t>(Descriptor()));
      case 1:
        return module.memory().AddressOf(input_.U16() % kMemorySize);
      case 2:
        return module.memory().AddressOf(kMemorySize - input_.Byte() % 64);
      case 3:
        return input_.U64();
      case 4:
        return kSpecialValues[input_.Byte() % (sizeof(kSpecialValues) / sizeof(uint64_t))];
      case 5:
        return input_.Byte();
      case 6:
        return NACL_ABI_IMC_NONBLOCK;
      default:
        return Other(module).memory().AddressOf(input_.U16() % kMemorySize);
    }
  }

  uint64_t Number() {
    const uint8_t b = input_.Byte();
    if (b < 0xf8) return kKnownNumbers[b % (sizeof(kKnownNumbers) / sizeof(uint64_t))];
    return b == 0xff ? input_.U64() : input_.Byte();
  }

  int64_t Dispatch(TestModule& module, uint64_t number, const SyscallArgs& args) {
    // read and write only ever meet /dev/null or an IMC object, neither of which blocks; a
    // raised signal would make every HostIo read and write fail before reaching the fd.
    const bool can_block = number != NACL_sys_read && number != NACL_sys_write;
    raised_->Cancel();
    const int64_t result = module.CallWithCancellation(can_block ? raised_ : nullptr, number, args);
    if (Tracing()) {
      const char* name = SyscallTable::Nacl().Name(number);
      fprintf(stderr, "module %c: %s(%#lx, %#lx, %#lx, %#lx, %#lx, %#lx) = %ld\n",
              &module == modules_[0].get() ? 'A' : 'B', name != nullptr ? name : "?",
              static_cast<unsigned long>(args.arg[0]), static_cast<unsigned long>(args.arg[1]),
              static_cast<unsigned long>(args.arg[2]), static_cast<unsigned long>(args.arg[3]),
              static_cast<unsigned long>(args.arg[4]), static_cast<unsigned long>(args.arg[5]),
              static_cast<long>(result));
    }
    return result;
  }

  // DISPATCH_FUZZER_TRACE=1 in the environment prints every call and its result.
  static bool Tracing() {
    static const bool tracing = getenv("DISPATCH_FUZZER_TRACE") != nullptr;
    return tracing;
  }

  void RawCall(TestModule& module) {
    const uint64_t number = Number();
    SyscallArgs args;
    for (uint64_t& arg : args.arg) arg = Argument(module);
    Dispatch(module, number, args);
  }

  // Writes up to 255 bytes of the program into module memory.
  void Poke(TestModule& module) {
    const size_t offset = input_.U16() % kMemorySize;
    absl::Span<const uint8_t> bytes = input_.Bytes(input_.Byte());
    const size_t size = std::min(bytes.size(), kMemorySize - offset);
    memcpy(module.memory().data() + offset, bytes.data(), size);
  }

  // A well-formed imc_sendmsg of data and descriptors chosen by the program.
  void SendMessage(TestModule& module) {
    const int d = Descriptor();
    const uint8_t sizes = input_.Byte();
    size_t bytes = input_.Byte();
    if (sizes & 1) bytes = NACL_ABI_IMC_USER_BYTES_MAX + (sizes & 2 ? 1 : 0);
    const size_t iov_count = (sizes & 4) ? 2 : 1;
    const size_t desc_count = (sizes >> 3) % 10;  // Up to 9: one over the limit.
    int descv[NACL_ABI_IMC_DESC_MAX + 1];
    for (size_t i = 0; i < desc_count; ++i) descv[i] = Descriptor();
    BufferMemory& memory = module.memory();
    memory.Write(memory.AddressOf(kDescvOffset), descv, desc_count * sizeof(int));
    NaClAbiNaClImcMsgIoVec iov[2] = {
        TestModule::Iovec(memory.AddressOf(kDataOffset), bytes / 2),
        TestModule::Iovec(memory.AddressOf(kDataOffset + bytes / 2), bytes - bytes / 2)};
    if (iov_count == 1) iov[0].length = bytes;
    memory.Write(memory.AddressOf(kIovOffset), iov, sizeof(iov));
    WriteHeader(module, iov_count, desc_count);
    SyscallArgs args = {{static_cast<uint64_t>(static_cast<int64_t>(d)),
                         memory.AddressOf(kHeaderOffset), sizes >> 7 ? 0u : 1u, 0, 0, 0}};
    Dispatch(module, NACL_sys_imc_sendmsg, args);
  }

  // A well-formed imc_recvmsg with room chosen by the program; optionally with a buffer or
  // descv that runs off the end of memory.
  void ReceiveMessage(TestModule& module) {
    const int d = Descriptor();
    const uint8_t sizes = input_.Byte();
    size_t room = input_.Byte();
    if (sizes & 1) room = NACL_ABI_IMC_USER_BYTES_MAX;
    const size_t desc_count = (sizes >> 3) % 10;
    BufferMemory& memory = module.memory();
    // Near the end, the buffer faults only once a message is being stored.
    const uint64_t buffer = memory.AddressOf((sizes & 2) ? kMemorySize - 2 : kDataOffset);
    NaClAbiNaClImcMsgIoVec iov = TestModule::Iovec(buffer, room);
    memory.Write(memory.AddressOf(kIovOffset), &iov, sizeof(iov));
    WriteHeader(module, 1, desc_count);
    if (sizes & 4) {
      NaClAbiNaClImcMsgHdr header;
      memory.Read(memory.AddressOf(kHeaderOffset), &header, sizeof(header));
      header.descv =
          reinterpret_cast<int*>(static_cast<uintptr_t>(memory.AddressOf(kMemorySize - 4)));
      memory.Write(memory.AddressOf(kHeaderOffset), &header, sizeof(header));
    }
    SyscallArgs args = {{static_cast<uint64_t>(static_cast<int64_t>(d)),
                         memory.AddressOf(kHeaderOffset), sizes >> 7 ? 0u : 1u, 0, 0, 0}};
    Dispatch(module, NACL_sys_imc_recvmsg, args);
  }

  void WriteHeader(TestModule& module, size_t iov_count, size_t desc_count) {
    BufferMemory& memory = module.memory();
    NaClAbiNaClImcMsgHdr header;
    memset(&header, 0, sizeof(header));
    header.iov = reinterpret_cast<NaClAbiNaClImcMsgIoVec*>(
        static_cast<uintptr_t>(memory.AddressOf(kIovOffset)));
    header.iov_length = iov_count;
    header.descv = reinterpret_cast<int*>(static_cast<uintptr_t>(memory.AddressOf(kDescvOffset)));
    header.desc_length = desc_count;
    memory.Write(memory.AddressOf(kHeaderOffset), &header, sizeof(header));
  }

  // Makes IMC objects the raw calls can then use: a bound socket, a data-only pair, a
  // connected pair (connect, then accept the queued request), or shared memory; or fills the
  // descriptor table, so that the next new descriptor meets EMFILE.
  void MakeObjects(TestModule& module) {
    const uint64_t out = module.memory().AddressOf(kHeaderOffset);
    SyscallArgs args = {{out, 0, 0, 0, 0, 0}};
    switch (input_.Byte() % 6) {
      case 0:
        Dispatch(module, NACL_sys_imc_makeboundsock, args);
        break;
      case 1:
        Dispatch(module, NACL_sys_imc_socketpair, args);
        break;
      case 2:
        args.arg[0] = NACL_ABI_MAP_PAGESIZE;
        Dispatch(module, NACL_sys_imc_mem_obj_create, args);
        break;
      case 3:
        // connect on a SocketAddress, accept on a BoundSocket.
        args.arg[0] = static_cast<uint64_t>(static_cast<int64_t>(Descriptor()));
        Dispatch(module, NACL_sys_imc_connect, args);
        args.arg[0] = static_cast<uint64_t>(static_cast<int64_t>(Descriptor()));
        Dispatch(module, NACL_sys_imc_accept, args);
        break;
      case 5:
        for (uint64_t d = 0; d < 16; ++d) {
          args.arg[0] = d;
          if (Dispatch(module, NACL_sys_dup, args) < 0) continue;
          while (Dispatch(module, NACL_sys_dup, args) >= 0) {
          }
          break;
        }
        break;
      default: {
        int pair[2];
        if (Dispatch(module, NACL_sys_imc_makeboundsock, args) != 0) break;
        module.memory().Read(out, pair, sizeof(pair));
        args.arg[0] = static_cast<uint64_t>(pair[1]);
        Dispatch(module, NACL_sys_imc_connect, args);
        args.arg[0] = static_cast<uint64_t>(pair[0]);
        Dispatch(module, NACL_sys_imc_accept, args);
        break;
      }
    }
  }

  FuzzInput input_;
  const imc::Cancellation* raised_;
  const int module_count_;
  std::unique_ptr<TestModule> modules_[2];
};

}  // namespace
}  // namespace syscalls

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const imc::Cancellation* const raised = [] {
    absl::StatusOr<imc::Cancellation> made = imc::Cancellation::Create();
    if (!made.ok()) {
      fprintf(stderr, "dispatch_fuzzer: cannot make a cancellation signal\n");
      abort();
    }
    return new imc::Cancellation(*std::move(made));
  }();
  const int fds_before = base::CountOpenFds();
  {
    syscalls::Program program(syscalls::FuzzInput({data, size}), raised);
    program.Run();
  }
  const int fds_after = base::CountOpenFds();
  if (fds_after != fds_before) {
    fprintf(stderr, "dispatch_fuzzer: %d host fds before the program, %d after: %s\n", fds_before,
            fds_after, base::DescribeOpenFds().c_str());
    abort();
  }
  return 0;
}
