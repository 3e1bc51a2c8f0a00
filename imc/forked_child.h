// Test support: runs a function in a forked child process and reports how it exited.
//
// The child runs the function and leaves with _exit() and the function's return value, so it never
// runs the parent's atexit handlers, gtest's reporting or LeakSanitizer. A child reports failures
// only through its exit code and stderr (see CHILD_CHECK). Fork before starting any thread: a child
// of a multi-threaded parent may only run async-signal-safe code.
#ifndef IMC_FORKED_CHILD_H_
#define IMC_FORKED_CHILD_H_

#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/errno_status.h"

namespace imc {

class ForkedChild {
 public:
  // Forks a child that runs `body` and exits with its result (0 means success). Returns the fork
  // error in the parent.
  static absl::StatusOr<ForkedChild> Start(const std::function<int()>& body);

  ForkedChild(ForkedChild&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  ForkedChild& operator=(ForkedChild&& other) = delete;
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;

  // Kills and reaps a child that was not waited for, so that no test leaves a zombie.
  ~ForkedChild();

  // Waits for the child. Returns OK if it exited with 0; otherwise an error naming its exit code or
  // the signal that killed it.
  absl::Status Wait();

  pid_t pid() const { return pid_; }

 private:
  explicit ForkedChild(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

namespace internal {

inline absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace internal
}  // namespace imc

// In a child's body: prints the failed condition to stderr and returns 1 (the exit code).
#define CHILD_CHECK(condition)                                                                     \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      fprintf(stderr, "child %d: %s:%d: check failed: %s\n", static_cast<int>(getpid()), __FILE__, \
              __LINE__, #condition);                                                               \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

// In a child's body: prints the status to stderr and returns 1 unless `expr` is OK.
#define CHILD_CHECK_OK(expr)                                                                       \
  do {                                                                                             \
    const ::absl::Status child_check_status_ = ::imc::internal::StatusOf(expr);                    \
    if (!child_check_status_.ok()) {                                                               \
      fprintf(stderr, "child %d: %s:%d: %s: %s\n", static_cast<int>(getpid()), __FILE__, __LINE__, \
              #expr, child_check_status_.ToString().c_str());                                      \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

// In a child's body: prints the status to stderr and returns 1 unless `expr` failed with errno
// `error_number`.
#define CHILD_CHECK_ERRNO(expr, error_number)                                        \
  do {                                                                               \
    const ::absl::Status child_check_status_ = ::imc::internal::StatusOf(expr);      \
    if (::base::ErrnoOf(child_check_status_) != (error_number)) {                    \
      fprintf(stderr, "child %d: %s:%d: %s: expected errno %d, got %s\n",            \
              static_cast<int>(getpid()), __FILE__, __LINE__, #expr, (error_number), \
              child_check_status_.ToString().c_str());                               \
      return 1;                                                                      \
    }                                                                                \
  } while (0)

#endif  // IMC_FORKED_CHILD_H_
