// Test support: what /proc says of a process (its fds, threads and resident memory), for
// checks that a burst or a long run leaves nothing behind.
#ifndef BASE_PROCESS_USAGE_H_
#define BASE_PROCESS_USAGE_H_

#include <stdint.h>
#include <sys/types.h>

#include <string>

namespace base {

// Each figure is -1 where it cannot be read (the process is gone, or not ours to look at).
struct ProcessUsage {
  int fds = -1;          // Entries of /proc/<pid>/fd.
  int threads = -1;      // Threads: of /proc/<pid>/status.
  int64_t rss_kib = -1;  // VmRSS: of /proc/<pid>/status.
};

ProcessUsage UsageOf(pid_t pid);

// "threads T, rss R KiB, fds F", for failure messages.
std::string Describe(const ProcessUsage& usage);

}  // namespace base

#endif  // BASE_PROCESS_USAGE_H_
