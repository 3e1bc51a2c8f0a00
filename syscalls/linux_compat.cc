#include "syscalls/linux_compat.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include <algorithm>
#include <vector>

#include "absl/status/statusor.h"
#include "syscalls/descriptor.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/handlers.h"
#include "syscalls/syscall_errno.h"
#include "syscalls/untrusted_memory.h"

namespace syscalls {
namespace {}  // namespace

int64_t CopyInIovecs(const CallContext& context, int d, uint64_t address, uint64_t count,
                     std::vector<UntrustedRange>* ranges, size_t* total) {
  if (context.table->Get(d) == nullptr) return -EBADF;
  if (count > kLinuxIovMax) return -EINVAL;
  std::vector<iovec> iov(count);
  if (!context.memory->Read(address, iov.data(), count * sizeof(iovec))) return -EFAULT;
  size_t sum = 0;
  for (const iovec& v : iov) {
    if (!CheckedAdd(sum, v.iov_len, &sum) || sum > static_cast<size_t>(SSIZE_MAX)) {
      return -EINVAL;
    }
  }
  ranges->clear();
  *total = 0;
  for (const iovec& v : iov) {
    size_t take = std::min(v.iov_len, kMaxIoChunk - *total);
    if (take == 0) continue;
    ranges->push_back({reinterpret_cast<uintptr_t>(v.iov_base), take});
    *total += take;
  }
  return 0;
}

namespace {

// Linux mmap flags a shared-memory mapping may add to NaCl's.
constexpr int kHarmlessMmapFlags = MAP_POPULATE | MAP_NORESERVE | MAP_FIXED_NOREPLACE;

}  // namespace

int64_t LinuxReadv(const CallContext& context, const SyscallArgs& args) {
  std::vector<UntrustedRange> ranges;
  size_t total = 0;
  if (int64_t error =
          CopyInIovecs(context, IntArg(args.arg[0]), args.arg[1], args.arg[2], &ranges, &total)) {
    return error;
  }
  return ReadIntoRanges(context, IntArg(args.arg[0]), ranges, total);
}

int64_t LinuxWritev(const CallContext& context, const SyscallArgs& args) {
  std::vector<UntrustedRange> ranges;
  size_t total = 0;
  if (int64_t error =
          CopyInIovecs(context, IntArg(args.arg[0]), args.arg[1], args.arg[2], &ranges, &total)) {
    return error;
  }
  return WriteFromRanges(context, IntArg(args.arg[0]), ranges, total);
}

int64_t LinuxDup2(const CallContext& context, const SyscallArgs& args) {
  int64_t result = SysDup2(context, args);
  return result == -NACL_ABI_EINVAL ? -EBADF : result;  // Linux: EBADF beyond the limit.
}

int64_t LinuxClose(const CallContext& context, const SyscallArgs& args) {
  const int d = IntArg(args.arg[0]);
  const int64_t result = context.table->Close(d);
  // The module's process also holds what an mmap placed at this number: the kernel closes it
  // with the module's own call (close has no pointer argument).
  if (result == 0 && context.table->ForgetPlaced(d)) return kRunInKernel;
  return result;
}

int64_t LinuxMmap(const CallContext& context, const SyscallArgs& args) {
  // Anonymous mappings never get here: the module's filter lets them run.
  const int d = IntArg(args.arg[4]);
  DescriptorRef descriptor = context.table->Get(d);
  if (descriptor == nullptr) return -EBADF;
  const int flags = IntArg(args.arg[3]) & ~kHarmlessMmapFlags;
  if (int64_t error = CheckSharedMemoryMap(*descriptor, args.arg[1], IntArg(args.arg[2]), flags,
                                           static_cast<int64_t>(args.arg[5]))) {
    return error;
  }
  if (context.module == nullptr) return -ENODEV;
  // The module's own mmap then runs in the kernel, on the memfd placed at the descriptor's
  // number. mmap has no pointer argument: nothing the kernel reads can change under us.
  const int64_t placed = context.module->PlaceFd(context.call_id, descriptor->Mappable()->fd, d);
  if (placed < 0) return placed;
  context.table->NotePlaced(d);
  return kRunInKernel;
}

int64_t LinuxDup3(const CallContext& context, const SyscallArgs& args) {
  // The module has no exec, so O_CLOEXEC changes nothing.
  if ((IntArg(args.arg[2]) & ~O_CLOEXEC) != 0) return -EINVAL;
  if (IntArg(args.arg[0]) == IntArg(args.arg[1])) return -EINVAL;
  // The slot keeps FD_CLOEXEC for fcntl(F_GETFD) to report.
  const int slot_flags = (IntArg(args.arg[2]) & O_CLOEXEC) != 0 ? FD_CLOEXEC : 0;
  int64_t result = context.table->Dup2(IntArg(args.arg[0]), IntArg(args.arg[1]), slot_flags);
  if (result >= 0) ReleasePlaced(context, static_cast<int>(result));
  return result == -NACL_ABI_EINVAL ? -EBADF : result;  // Linux: EBADF beyond the limit.
}

struct stat ToLinuxStat(const nacl_abi_stat& st) {
  struct stat out = {};
  uint32_t kind = st.nacl_abi_st_mode & NACL_ABI_S_IFMT;
  uint32_t mode = st.nacl_abi_st_mode & 07777;
  switch (kind) {
    case NACL_ABI_S_IFSOCKADDR:
    case NACL_ABI_S_IFBOUNDSOCK:
    case NACL_ABI_S_IFDSOCK:
      out.st_mode = S_IFSOCK | mode;
      break;
    case NACL_ABI_S_IFSHM:
      out.st_mode = S_IFREG | mode;
      break;
    default:
      out.st_mode = st.nacl_abi_st_mode;
  }
  out.st_dev = static_cast<dev_t>(st.nacl_abi_st_dev);
  out.st_ino = st.nacl_abi_st_ino;
  out.st_nlink = st.nacl_abi_st_nlink;
  out.st_uid = st.nacl_abi_st_uid;
  out.st_gid = st.nacl_abi_st_gid;
  out.st_rdev = static_cast<dev_t>(st.nacl_abi_st_rdev);
  out.st_size = st.nacl_abi_st_size;
  out.st_blksize = st.nacl_abi_st_blksize;
  out.st_blocks = st.nacl_abi_st_blocks;
  out.st_atim = {st.nacl_abi_st_atime, st.nacl_abi_st_atimensec};
  out.st_mtim = {st.nacl_abi_st_mtime, st.nacl_abi_st_mtimensec};
  out.st_ctim = {st.nacl_abi_st_ctime, st.nacl_abi_st_ctimensec};
  return out;
}

int64_t LinuxFstat(const CallContext& context, const SyscallArgs& args) {
  DescriptorRef descriptor = context.table->Get(IntArg(args.arg[0]));
  if (descriptor == nullptr) return -EBADF;
  absl::StatusOr<nacl_abi_stat> st = descriptor->Stat();
  if (!st.ok()) return LinuxResult(st.status());
  struct stat out = ToLinuxStat(*st);
  if (!context.memory->Write(args.arg[1], &out, sizeof(out))) return -EFAULT;
  return 0;
}

int64_t LinuxNewfstatat(const CallContext& context, const SyscallArgs& args) {
  // Only fstat in disguise (an empty path with AT_EMPTY_PATH) names a descriptor; a path is
  // file access, which the module was not granted: EACCES, as Native Client answered.
  char first = 0;
  if (!context.memory->Read(args.arg[1], &first, 1)) return -EFAULT;
  if ((IntArg(args.arg[3]) & AT_EMPTY_PATH) == 0 || first != '\0') return -EACCES;
  SyscallArgs fstat_args = {{args.arg[0], args.arg[2], 0, 0, 0, 0}};
  return LinuxFstat(context, fstat_args);
}

}  // namespace syscalls
