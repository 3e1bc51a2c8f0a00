#include "imc/forked_child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"

namespace imc {

absl::StatusOr<ForkedChild> ForkedChild::Start(const std::function<int()>& body) {
  // Whatever the parent buffered must not be written twice.
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return base::ErrnoStatus(errno, "fork");
  if (pid == 0) {
    int code = body();
    fflush(stderr);
    _exit(code);
  }
  return ForkedChild(pid);
}

ForkedChild::~ForkedChild() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

absl::Status ForkedChild::Wait() {
  if (pid_ <= 0) return absl::FailedPreconditionError("no child to wait for");
  int status;
  pid_t pid = pid_;
  pid_ = -1;
  for (;;) {
    if (waitpid(pid, &status, 0) == pid) break;
    if (errno != EINTR) return base::ErrnoStatus(errno, "waitpid");
  }
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 0) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("child ", pid, " exited with code ", WEXITSTATUS(status)));
  }
  if (WIFSIGNALED(status)) {
    return absl::InternalError(absl::StrCat("child ", pid, " was killed by signal ",
                                            WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
                                            ")"));
  }
  return absl::InternalError(absl::StrCat("child ", pid, " ended with wait status ", status));
}

}  // namespace imc
