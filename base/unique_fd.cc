#include "base/unique_fd.h"

#include <unistd.h>

namespace base {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0 && fd_ != fd) {
    // close() always releases the descriptor on Linux, even when it reports EINTR.
    ::close(fd_);
  }
  fd_ = fd;
}

}  // namespace base
