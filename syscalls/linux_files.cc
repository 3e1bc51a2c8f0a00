#include "syscalls/linux_files.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "syscalls/descriptor.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/descriptor_types.h"
#include "syscalls/handlers.h"
#include "syscalls/linux_compat.h"
#include "syscalls/syscall_errno.h"
#include "syscalls/untrusted_memory.h"

namespace syscalls {
namespace {

// F_SETFL bits Linux changes that a module descriptor cannot honour: asynchronous I/O
// signals, direct I/O, no access times. EINVAL, rather than silently ignored.
constexpr int kUnsupportedStatusFlags = O_ASYNC | O_DIRECT | O_NOATIME;

int64_t SetStatusFlags(Descriptor& descriptor, int flags) {
  if ((flags & kUnsupportedStatusFlags) != 0) return -EINVAL;
  // Access mode and creation flags are ignored, as Linux does.
  absl::Status set = descriptor.SetStatusFlags(flags & (O_NONBLOCK | O_APPEND));
  return set.ok() ? 0 : LinuxResult(set);
}

// pread / preadv: reads at `offset` into the module's `ranges` (checked writable first).
int64_t ReadAtIntoRanges(const CallContext& context, int d, absl::Span<const UntrustedRange> ranges,
                         size_t total, int64_t offset) {
  DescriptorRef descriptor = context.table->Get(d);
  if (descriptor == nullptr) return -EBADF;
  if (offset < 0) return -EINVAL;
  if (!context.memory->CheckWritable(ranges)) return -EFAULT;
  std::vector<uint8_t> buffer(total);
  absl::StatusOr<size_t> got = descriptor->ReadAt(absl::MakeSpan(buffer), offset);
  if (!got.ok()) return LinuxResult(got.status());
  if (!context.memory->Scatter(ranges, buffer.data(), *got)) return -EFAULT;
  return static_cast<int64_t>(*got);
}

// pwrite / pwritev: writes the module's `ranges` at `offset`.
int64_t WriteAtFromRanges(const CallContext& context, int d,
                          absl::Span<const UntrustedRange> ranges, size_t total, int64_t offset) {
  DescriptorRef descriptor = context.table->Get(d);
  if (descriptor == nullptr) return -EBADF;
  if (offset < 0) return -EINVAL;
  std::vector<uint8_t> data(total);
  if (!context.memory->Gather(ranges, data.data())) return -EFAULT;
  absl::StatusOr<size_t> written = descriptor->WriteAt(data, offset);
  if (!written.ok()) return LinuxResult(written.status());
  return static_cast<int64_t>(*written);
}

int64_t Sync(const CallContext& context, int d, bool data_only) {
  DescriptorRef descriptor = context.table->Get(d);
  if (descriptor == nullptr) return -EBADF;
  absl::Status synced = descriptor->Sync(context, data_only);
  return synced.ok() ? 0 : LinuxResult(synced);
}

}  // namespace

int64_t LinuxFcntl(const CallContext& context, const SyscallArgs& args) {
  const int d = IntArg(args.arg[0]);
  const int command = IntArg(args.arg[1]);
  DescriptorTable& table = *context.table;
  DescriptorRef descriptor = table.Get(d);
  if (descriptor == nullptr) return -EBADF;
  switch (command) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      // Linux: EINVAL for a minimum beyond the limit (as an int: negative ones too).
      const int min_d = IntArg(args.arg[2]);
      return table.DupAtLeast(d, min_d, command == F_DUPFD_CLOEXEC ? FD_CLOEXEC : 0);
    }
    case F_GETFD:
      return table.SlotFlags(d);
    case F_SETFD:
      return table.SetSlotFlags(d, IntArg(args.arg[2]) & FD_CLOEXEC);
    case F_GETFL:
      return descriptor->StatusFlags();
    case F_SETFL: {
      const int64_t result = SetStatusFlags(*descriptor, IntArg(args.arg[2]));
      if (result == 0 && descriptor->nonblocking()) ReleaseDirect(context, d);
      return result;
    }
    default:
      // Locks, owners, leases, notifications, pipe sizes, seals: not offered (Linux answers
      // EINVAL for a command it does not know).
      return -EINVAL;
  }
}

int64_t LinuxLseek(const CallContext& context, const SyscallArgs& args) {
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[0]));
  if (descriptor == nullptr) return -EBADF;
  absl::StatusOr<int64_t> offset =
      descriptor->Seek(static_cast<int64_t>(args.arg[1]), IntArg(args.arg[2]));
  return offset.ok() ? *offset : LinuxResult(offset.status());
}

int64_t LinuxPread64(const CallContext& context, const SyscallArgs& args) {
  const UntrustedRange range = {args.arg[1], std::min<uint64_t>(args.arg[2], kMaxIoChunk)};
  return ReadAtIntoRanges(context, IntArg(args.arg[0]), {&range, 1}, range.size,
                          static_cast<int64_t>(args.arg[3]));
}

int64_t LinuxPwrite64(const CallContext& context, const SyscallArgs& args) {
  const UntrustedRange range = {args.arg[1], std::min<uint64_t>(args.arg[2], kMaxIoChunk)};
  return WriteAtFromRanges(context, IntArg(args.arg[0]), {&range, 1}, range.size,
                           static_cast<int64_t>(args.arg[3]));
}

int64_t LinuxPreadv(const CallContext& context, const SyscallArgs& args) {
  std::vector<UntrustedRange> ranges;
  size_t total = 0;
  if (int64_t error =
          CopyInIovecs(context, IntArg(args.arg[0]), args.arg[1], args.arg[2], &ranges, &total)) {
    return error;
  }
  // x86-64 passes the whole offset in the low word.
  return ReadAtIntoRanges(context, IntArg(args.arg[0]), ranges, total,
                          static_cast<int64_t>(args.arg[3]));
}

int64_t LinuxPwritev(const CallContext& context, const SyscallArgs& args) {
  std::vector<UntrustedRange> ranges;
  size_t total = 0;
  if (int64_t error =
          CopyInIovecs(context, IntArg(args.arg[0]), args.arg[1], args.arg[2], &ranges, &total)) {
    return error;
  }
  return WriteAtFromRanges(context, IntArg(args.arg[0]), ranges, total,
                           static_cast<int64_t>(args.arg[3]));
}

int64_t LinuxFsync(const CallContext& context, const SyscallArgs& args) {
  return Sync(context, IntArg(args.arg[0]), /*data_only=*/false);
}

int64_t LinuxFdatasync(const CallContext& context, const SyscallArgs& args) {
  return Sync(context, IntArg(args.arg[0]), /*data_only=*/true);
}

int64_t LinuxFtruncate(const CallContext& context, const SyscallArgs& args) {
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[0]));
  if (descriptor == nullptr) return -EBADF;
  absl::Status truncated = descriptor->Truncate(static_cast<int64_t>(args.arg[1]));
  return truncated.ok() ? 0 : LinuxResult(truncated);
}

int64_t LinuxPipe2(const CallContext& context, const SyscallArgs& args) {
  const int flags = IntArg(args.arg[1]);
  // O_DIRECT (packet mode) and notification pipes are not offered.
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK)) != 0) return -EINVAL;
  int host[2];
  // Nonblocking on the host: the loader alone holds these ends, and so a transfer never
  // waits where cancellation cannot reach it (see HostIoDescriptor).
  if (pipe2(host, O_CLOEXEC | O_NONBLOCK) != 0) return -errno;
  base::UniqueFd read_end(host[0]);
  base::UniqueFd write_end(host[1]);
  auto reader =
      std::make_shared<HostIoDescriptor>(std::move(read_end), HostIoDescriptor::Access::kReadOnly);
  auto writer = std::make_shared<HostIoDescriptor>(std::move(write_end),
                                                   HostIoDescriptor::Access::kWriteOnly);
  if ((flags & O_NONBLOCK) != 0) {
    (void)reader->SetStatusFlags(O_NONBLOCK);
    (void)writer->SetStatusFlags(O_NONBLOCK);
  }
  const int slot_flags = (flags & O_CLOEXEC) != 0 ? FD_CLOEXEC : 0;
  DescriptorTable& table = *context.table;
  int pair[2];
  pair[0] = table.Install(std::move(reader), slot_flags);
  if (pair[0] < 0) return pair[0];
  pair[1] = table.Install(std::move(writer), slot_flags);
  if (pair[1] < 0) {
    table.Close(pair[0]);
    return pair[1];
  }
  if (!context.memory->Write(args.arg[0], pair, sizeof(pair))) {
    table.Close(pair[0]);
    table.Close(pair[1]);
    return -EFAULT;
  }
  return 0;
}

int64_t LinuxPipe(const CallContext& context, const SyscallArgs& args) {
  SyscallArgs pipe2_args = {{args.arg[0], 0, 0, 0, 0, 0}};
  return LinuxPipe2(context, pipe2_args);
}

}  // namespace syscalls
