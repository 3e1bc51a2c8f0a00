// Test support: counts this process's open descriptors, for fd-leak checks.
#ifndef BASE_FD_COUNT_H_
#define BASE_FD_COUNT_H_

#include <string>

namespace base {

// Returns the number of entries in /proc/self/fd (excluding the one used to read it),
// or -1 if it cannot be read.
int CountOpenFds();

// Returns a one-line listing "fd -> target, ..." of /proc/self/fd, for failure messages.
std::string DescribeOpenFds();

}  // namespace base

#endif  // BASE_FD_COUNT_H_
