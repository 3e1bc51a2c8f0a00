#include "base/process_usage.h"

#include <stdio.h>

#include "base/fd_count.h"

namespace base {

ProcessUsage UsageOf(pid_t pid) {
  ProcessUsage usage;
  usage.fds = CountOpenFdsOf(pid);
  const std::string status = "/proc/" + std::to_string(pid) + "/status";
  if (FILE* f = fopen(status.c_str(), "re")) {
    char line[256];
    while (fgets(line, sizeof(line), f) != nullptr) {
      long value = 0;
      if (sscanf(line, "Threads: %ld", &value) == 1) usage.threads = static_cast<int>(value);
      if (sscanf(line, "VmRSS: %ld kB", &value) == 1) usage.rss_kib = value;
    }
    fclose(f);
  }
  return usage;
}

std::string Describe(const ProcessUsage& usage) {
  return "threads " + std::to_string(usage.threads) + ", rss " + std::to_string(usage.rss_kib) +
         " KiB, fds " + std::to_string(usage.fds);
}

}  // namespace base
