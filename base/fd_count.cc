#include "base/fd_count.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

namespace base {

namespace {

// The entries of directory `path` but . and .., or -1 if it cannot be read.
int CountEntries(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

}  // namespace

int CountOpenFds() {
  const int count = CountEntries("/proc/self/fd");
  return count < 0 ? -1 : count - 1;  // The directory stream's own descriptor.
}

int CountOpenFdsOf(pid_t pid) { return CountEntries("/proc/" + std::to_string(pid) + "/fd"); }

std::string DescribeOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return "(cannot read /proc/self/fd)";
  std::string out;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    if (atoi(entry->d_name) == dirfd(dir)) continue;
    char target[PATH_MAX];
    std::string path = std::string("/proc/self/fd/") + entry->d_name;
    ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
    target[n < 0 ? 0 : n] = '\0';
    if (!out.empty()) out += ", ";
    out += std::string(entry->d_name) + " -> " + target;
  }
  closedir(dir);
  return out;
}

}  // namespace base
