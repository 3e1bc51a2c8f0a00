#include "syscalls/linux_process.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/types.h>
#include <time.h>

#include <algorithm>

#include "syscalls/untrusted_memory.h"

namespace syscalls {

int64_t LinuxGetcwd(const CallContext& context, const SyscallArgs& args) {
  static constexpr char kRoot[] = "/";
  if (args.arg[1] < sizeof(kRoot)) return -ERANGE;
  if (!context.memory->Write(args.arg[0], kRoot, sizeof(kRoot))) return -EFAULT;
  return sizeof(kRoot);
}

int64_t LinuxSysinfo(const CallContext& context, const SyscallArgs& args) {
  struct sysinfo host = {};
  if (sysinfo(&host) != 0) return -errno;
  const uint64_t host_ram = static_cast<uint64_t>(host.totalram) * host.mem_unit;
  const uint64_t host_free = static_cast<uint64_t>(host.freeram) * host.mem_unit;
  // The module's budget is the address-space limit the loader set on its process.
  uint64_t budget = host_ram;
  struct rlimit limit;
  const pid_t pid = static_cast<pid_t>(context.module->GetPid());
  if (prlimit(pid, RLIMIT_AS, nullptr, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    budget = std::min<uint64_t>(budget, limit.rlim_cur);
  }
  struct timespec boot = {};
  clock_gettime(CLOCK_BOOTTIME, &boot);
  struct sysinfo info = {};
  info.uptime = boot.tv_sec;
  info.totalram = budget;
  info.freeram = std::min(budget, host_free);
  info.procs = 1;
  info.mem_unit = 1;
  if (!context.memory->Write(args.arg[0], &info, sizeof(info))) return -EFAULT;
  return 0;
}

}  // namespace syscalls
