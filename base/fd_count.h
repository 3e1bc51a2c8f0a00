// Test support: counts a process's open descriptors, for fd-leak checks.
#ifndef BASE_FD_COUNT_H_
#define BASE_FD_COUNT_H_

#include <sys/types.h>

#include <string>

namespace base {

// Returns the number of entries in /proc/self/fd (excluding the one used to read it),
// or -1 if it cannot be read.
int CountOpenFds();

// Returns the number of entries in /proc/<pid>/fd, or -1 if it cannot be read (the process
// is gone, or not ours to look at).
int CountOpenFdsOf(pid_t pid);

// Returns a one-line listing "fd -> target, ..." of /proc/self/fd, for failure messages.
std::string DescribeOpenFds();

}  // namespace base

#endif  // BASE_FD_COUNT_H_
