#include "syscalls/handlers.h"

#include <errno.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "base/errno_status.h"
#include "imc/bound_socket.h"
#include "imc/descriptor.h"
#include "imc/message_socket.h"
#include "imc/shared_memory.h"
#include "imc/wire_format.h"
#include "syscalls/descriptor.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/descriptor_types.h"
#include "syscalls/io_buffer.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/syscall_errno.h"
#include "syscalls/untrusted_memory.h"

namespace syscalls {
namespace {

// imc_sendmsg and imc_recvmsg check NaCl's limits and hand imc what fits them: imc must take
// as much, and NaCl's modules see no other limit.
static_assert(imc::kMaxDescriptors == NACL_ABI_IMC_DESC_MAX, "one descriptor limit");
static_assert(imc::kMaxUserBytes == NACL_ABI_IMC_USER_BYTES_MAX, "one message size limit");

// read and write: the descriptor's own errno of a failed transfer (see IoErrnoOf).
int64_t IoErrno(const Descriptor& descriptor, const absl::Status& status) {
  return IsWouldBlock(status) ? kWouldBlock : -descriptor.IoErrnoOf(status);
}

// Installs `descriptor`; returns the new slot or a negated errno.
int64_t InstallResult(const CallContext& context, absl::StatusOr<DescriptorRef> descriptor) {
  if (!descriptor.ok()) return NaClResult(descriptor.status());
  return context.table->Install(*std::move(descriptor));
}

// Installs both descriptors and writes their numbers to the module's int[2] at `out`. On any
// failure nothing stays installed.
int64_t InstallPair(const CallContext& context, DescriptorRef first, DescriptorRef second,
                    uint64_t out) {
  DescriptorTable& table = *context.table;
  int pair[2];
  pair[0] = table.Install(std::move(first));
  if (pair[0] < 0) return pair[0];
  pair[1] = table.Install(std::move(second));
  if (pair[1] < 0) {
    table.Close(pair[0]);
    return pair[1];
  }
  if (!context.memory->Write(out, pair, sizeof(pair))) {
    table.Close(pair[0]);
    table.Close(pair[1]);
    return -NACL_ABI_EFAULT;
  }
  return 0;
}

// The parts of a NaClAbiNaClImcMsgHdr both imc_sendmsg and imc_recvmsg copy in and check.
struct MessageLayout {
  NaClAbiNaClImcMsgHdr header;
  absl::InlinedVector<UntrustedRange, 8> iov;
  size_t total = 0;  // Sum of the iov lengths, saturated at SIZE_MAX.
};

int64_t CopyInLayout(const CallContext& context, uint64_t header_address, MessageLayout* out) {
  UntrustedMemory& memory = *context.memory;
  if (!memory.Read(header_address, &out->header, sizeof(out->header))) return -NACL_ABI_EFAULT;
  const NaClAbiNaClImcMsgHdr& header = out->header;
  if (header.iov_length > NACL_ABI_IMC_IOVEC_MAX) return -NACL_ABI_EINVAL;
  if (header.desc_length > NACL_ABI_IMC_DESC_MAX) return -NACL_ABI_EINVAL;
  NaClAbiNaClImcMsgIoVec iov[NACL_ABI_IMC_IOVEC_MAX];
  if (!memory.Read(reinterpret_cast<uintptr_t>(header.iov), iov,
                   header.iov_length * sizeof(iov[0]))) {
    return -NACL_ABI_EFAULT;
  }
  out->iov.resize(header.iov_length);
  for (size_t i = 0; i < header.iov_length; ++i) {
    out->iov[i] = {reinterpret_cast<uintptr_t>(iov[i].base), iov[i].length};
    if (!CheckedAdd(out->total, iov[i].length, &out->total)) out->total = SIZE_MAX;
  }
  return 0;
}

// The direct data path (docs/performance.md): after a trapped imc_sendmsg or imc_recvmsg on
// an IMC socket, the socket goes to the descriptor's number in the module's process, so that
// the SDK sends and receives the next descriptor-free messages itself, without a trap.
// Placing may fail (the number is beyond the module's fd limit): the SDK then keeps trapping.
void PlaceDirect(const CallContext& context, int d, const Descriptor& descriptor) {
  if (context.module == nullptr) return;
  context.table->PlaceDirect(
      d, descriptor, [&](int fd) { return context.module->PlaceFd(context.call_id, fd, d) == 0; });
}

}  // namespace

void ReleaseDirect(const CallContext& context, int d) {
  if (context.module == nullptr || !context.table->ForgetDirect(d)) return;
  context.module->ReleaseFd(context.call_id, d);
}

int64_t SysNull(const CallContext&, const SyscallArgs&) { return 0; }

int64_t SysDup(const CallContext& context, const SyscallArgs& args) {
  return context.table->Dup(IntArg(args.arg[0]));
}

void ReleasePlaced(const CallContext& context, int d) {
  if (context.module == nullptr || !context.table->IsPlaced(d)) return;
  // The number keeps a placeholder (or, on failure, what was there): still placed.
  context.module->ReleaseFd(context.call_id, d);
}

int64_t SysDup2(const CallContext& context, const SyscallArgs& args) {
  const int64_t result = context.table->Dup2(IntArg(args.arg[0]), IntArg(args.arg[1]));
  if (result >= 0) ReleasePlaced(context, static_cast<int>(result));
  return result;
}

int64_t SysClose(const CallContext& context, const SyscallArgs& args) {
  const int d = IntArg(args.arg[0]);
  const int64_t result = context.table->Close(d);
  if (result == 0) ReleasePlaced(context, d);
  return result;
}

int64_t ReadIntoRanges(const CallContext& context, int d, absl::Span<const UntrustedRange> ranges,
                       size_t total) {
  DescriptorRef descriptor = context.table->Get(d);
  if (descriptor == nullptr) return -NACL_ABI_EBADF;
  if (!context.memory->CheckWritable(ranges)) return -NACL_ABI_EFAULT;
  IoBuffer buffer(total);
  if (!buffer.ok()) return -NACL_ABI_ENOMEM;
  absl::StatusOr<size_t> got = descriptor->Read(context, buffer.span());
  if (!got.ok()) return IoErrno(*descriptor, got.status());
  if (!context.memory->Scatter(ranges, buffer.data(), *got)) return -NACL_ABI_EFAULT;
  return static_cast<int64_t>(*got);
}

int64_t WriteFromRanges(const CallContext& context, int d, absl::Span<const UntrustedRange> ranges,
                        size_t total) {
  DescriptorRef descriptor = context.table->Get(d);
  if (descriptor == nullptr) return -NACL_ABI_EBADF;
  IoBuffer data(total);
  if (!data.ok()) return -NACL_ABI_ENOMEM;
  if (!context.memory->Gather(ranges, data.data())) return -NACL_ABI_EFAULT;
  absl::StatusOr<size_t> written = descriptor->Write(context, data.span());
  if (!written.ok()) return IoErrno(*descriptor, written.status());
  return static_cast<int64_t>(*written);
}

int64_t SysRead(const CallContext& context, const SyscallArgs& args) {
  const UntrustedRange range = {args.arg[1], std::min<uint64_t>(args.arg[2], kMaxIoChunk)};
  return ReadIntoRanges(context, IntArg(args.arg[0]), {&range, 1}, range.size);
}

int64_t SysWrite(const CallContext& context, const SyscallArgs& args) {
  const UntrustedRange range = {args.arg[1], std::min<uint64_t>(args.arg[2], kMaxIoChunk)};
  return WriteFromRanges(context, IntArg(args.arg[0]), {&range, 1}, range.size);
}

int64_t SysFstat(const CallContext& context, const SyscallArgs& args) {
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[0]));
  if (descriptor == nullptr) return -NACL_ABI_EBADF;
  absl::StatusOr<nacl_abi_stat> st = descriptor->Stat();
  if (!st.ok()) return NaClResult(st.status());
  if (!context.memory->Write(args.arg[1], &*st, sizeof(*st))) return -NACL_ABI_EFAULT;
  return 0;
}

int64_t CheckSharedMemoryMap(const Descriptor& descriptor, uint64_t length, int prot, int flags,
                             int64_t offset) {
  absl::optional<MappableMemory> memory = descriptor.Mappable();
  if (!memory.has_value()) return -NACL_ABI_ENODEV;
  const size_t size = memory->size;
  const int sharing = flags & (NACL_ABI_MAP_SHARED | NACL_ABI_MAP_PRIVATE);
  if (length == 0 || (prot & ~(NACL_ABI_PROT_READ | NACL_ABI_PROT_WRITE)) != 0 ||
      (sharing != NACL_ABI_MAP_SHARED && sharing != NACL_ABI_MAP_PRIVATE) ||
      (flags & ~(NACL_ABI_MAP_SHARED | NACL_ABI_MAP_PRIVATE | NACL_ABI_MAP_FIXED)) != 0 ||
      offset < 0 || offset % NACL_ABI_MAP_PAGESIZE != 0 || static_cast<uint64_t>(offset) > size ||
      length > size - static_cast<uint64_t>(offset)) {
    return -NACL_ABI_EINVAL;
  }
  return 0;
}

int64_t SysMmap(const CallContext& context, const SyscallArgs& args) {
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[4]));
  if (descriptor == nullptr) return -NACL_ABI_EBADF;
  if (int64_t error =
          CheckSharedMemoryMap(*descriptor, args.arg[1], IntArg(args.arg[2]), IntArg(args.arg[3]),
                               static_cast<int64_t>(args.arg[5]))) {
    return error;
  }
  // A loader outside the module's process cannot map into it on behalf of this number:
  // modules map with libc's mmap(), which the Linux table serves (LinuxMmap).
  return -NACL_ABI_ENOSYS;
}

int64_t SysMunmap(const CallContext&, const SyscallArgs&) {
  // Modules unmap with libc's munmap(), which runs in the module itself.
  return -NACL_ABI_ENOSYS;
}

int64_t SysExit(const CallContext& context, const SyscallArgs& args) {
  if (context.module == nullptr) return -NACL_ABI_ENOSYS;
  return context.module->Exit(IntArg(args.arg[0]));
}

int64_t SysGetpid(const CallContext& context, const SyscallArgs&) {
  if (context.module == nullptr) return -NACL_ABI_ENOSYS;
  return context.module->GetPid();
}

int64_t SysImcMakeBoundSock(const CallContext& context, const SyscallArgs& args) {
  auto pair = imc::MakeBoundSocket(context.table->bound_socket_options());
  if (!pair.ok()) return NaClResult(pair.status());
  return InstallPair(context, std::make_shared<BoundSocketDescriptor>(std::move(pair->first)),
                     std::make_shared<SocketAddressDescriptor>(std::move(pair->second)),
                     args.arg[0]);
}

int64_t SysImcAccept(const CallContext& context, const SyscallArgs& args) {
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[0]));
  if (descriptor == nullptr) return -NACL_ABI_EBADF;
  return InstallResult(context, descriptor->Accept(context));
}

int64_t SysImcConnect(const CallContext& context, const SyscallArgs& args) {
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[0]));
  if (descriptor == nullptr) return -NACL_ABI_EBADF;
  return InstallResult(context, descriptor->Connect(context));
}

int64_t SysImcSendmsg(const CallContext& context, const SyscallArgs& args) {
  MessageLayout layout;
  if (int64_t error = CopyInLayout(context, args.arg[1], &layout)) return error;
  if (layout.total > NACL_ABI_IMC_USER_BYTES_MAX) return -NACL_ABI_EIO;
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[0]));
  if (descriptor == nullptr) return -NACL_ABI_EBADF;

  int descv[NACL_ABI_IMC_DESC_MAX];
  const size_t desc_length = layout.header.desc_length;
  if (!context.memory->Read(reinterpret_cast<uintptr_t>(layout.header.descv), descv,
                            desc_length * sizeof(int))) {
    return -NACL_ABI_EFAULT;
  }
  absl::InlinedVector<DescriptorRef, NACL_ABI_IMC_DESC_MAX> descriptors;
  for (size_t i = 0; i < desc_length; ++i) {
    if (descv[i] == -1) {
      descriptors.push_back(nullptr);  // NaCl's invalid descriptor travels as itself.
      continue;
    }
    DescriptorRef sent = context.table->Get(descv[i]);
    if (sent == nullptr) return -NACL_ABI_EBADF;
    descriptors.push_back(std::move(sent));
  }

  IoBuffer data(layout.total);
  if (!data.ok()) return -NACL_ABI_ENOMEM;
  if (!context.memory->Gather(layout.iov, data.data())) return -NACL_ABI_EFAULT;
  const bool nonblocking = (IntArg(args.arg[2]) & NACL_ABI_IMC_NONBLOCK) != 0;
  absl::StatusOr<size_t> sent =
      descriptor->SendMessage(context, data.span(), descriptors, nonblocking);
  if (!sent.ok()) return NaClResult(sent.status());
  PlaceDirect(context, IntArg(args.arg[0]), *descriptor);
  return static_cast<int64_t>(*sent);
}

int64_t SysImcRecvmsg(const CallContext& context, const SyscallArgs& args) {
  MessageLayout layout;
  const uint64_t header_address = args.arg[1];
  if (int64_t error = CopyInLayout(context, header_address, &layout)) return error;
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[0]));
  if (descriptor == nullptr) return -NACL_ABI_EBADF;

  // Check that the results can be written before a message is consumed.
  UntrustedMemory& memory = *context.memory;
  const size_t desc_length = layout.header.desc_length;
  const uint64_t descv_address = reinterpret_cast<uintptr_t>(layout.header.descv);
  int descv[NACL_ABI_IMC_DESC_MAX];
  std::fill(descv, descv + NACL_ABI_IMC_DESC_MAX, -1);
  NaClAbiNaClImcMsgHdr header = layout.header;
  header.flags = 0;
  if (!memory.Write(descv_address, descv, desc_length * sizeof(int)) ||
      !memory.Write(header_address, &header, sizeof(header))) {
    return -NACL_ABI_EFAULT;
  }

  IoBuffer buffer(std::min<size_t>(layout.total, NACL_ABI_IMC_USER_BYTES_MAX));
  if (!buffer.ok()) return -NACL_ABI_ENOMEM;
  const bool nonblocking = (IntArg(args.arg[2]) & NACL_ABI_IMC_NONBLOCK) != 0;
  absl::StatusOr<ReceivedImcMessage> received =
      descriptor->ReceiveMessage(context, buffer.span(), desc_length, nonblocking);
  if (!received.ok()) return NaClResult(received.status());

  // From here on the message is consumed: a failure closes what it brought.
  DescriptorTable& table = *context.table;
  size_t installed = 0;
  auto fail = [&](int64_t error) {
    for (size_t i = 0; i < installed; ++i) {
      if (descv[i] >= 0) table.Close(descv[i]);
    }
    return error;
  };
  if (!memory.Scatter(layout.iov, buffer.data(), received->bytes)) {
    return fail(-NACL_ABI_EFAULT);
  }
  for (DescriptorRef& d : received->descriptors) {
    if (d != nullptr) {
      int slot = table.Install(std::move(d));
      if (slot < 0) return fail(slot);
      descv[installed] = slot;
    }
    ++installed;
  }
  header.desc_length = installed;
  if (received->data_truncated) header.flags |= NACL_ABI_RECVMSG_DATA_TRUNCATED;
  if (received->descriptors_truncated) header.flags |= NACL_ABI_RECVMSG_DESC_TRUNCATED;
  if (!memory.Write(descv_address, descv, installed * sizeof(int)) ||
      !memory.Write(header_address, &header, sizeof(header))) {
    return fail(-NACL_ABI_EFAULT);
  }
  PlaceDirect(context, IntArg(args.arg[0]), *descriptor);
  return static_cast<int64_t>(received->bytes);
}

int64_t SysImcMemObjCreate(const CallContext& context, const SyscallArgs& args) {
  const uint64_t size = args.arg[0];
  if (size % NACL_ABI_MAP_PAGESIZE != 0) return -NACL_ABI_EINVAL;
  // NaCl could not create an empty memory object and answered ENOMEM, as for one too large.
  if (size == 0 || size > kMaxSharedMemoryBytes) return -NACL_ABI_ENOMEM;
  // The object counts against the module's memory limit for as long as it holds it.
  const std::shared_ptr<MemoryBudget>& budget = context.table->shared_memory_budget();
  if (!budget->TryTake(size)) return -NACL_ABI_ENOMEM;
  BudgetCharge charge(budget, size);
  absl::StatusOr<imc::SharedMemory> memory = imc::SharedMemory::Create(size);
  if (!memory.ok()) return NaClResult(memory.status());
  return context.table->Install(
      std::make_shared<SharedMemoryDescriptor>(*std::move(memory), std::move(charge)));
}

int64_t SysImcSocketPair(const CallContext& context, const SyscallArgs& args) {
  auto pair = imc::MakeDataOnlyPair();
  if (!pair.ok()) return NaClResult(pair.status());
  return InstallPair(context,
                     std::make_shared<DataOnlySocketDescriptor>(std::move(pair->first),
                                                                SocketOwnership::kExclusive),
                     std::make_shared<DataOnlySocketDescriptor>(std::move(pair->second),
                                                                SocketOwnership::kExclusive),
                     args.arg[0]);
}

}  // namespace syscalls
