// Starting a child process with an exact descriptor layout: the child holds the descriptors
// it is given, at the numbers it is given, and nothing else. Setting up the layout assumes
// nothing about which numbers are free in the parent (any fd, 1000 included, may be open).
#ifndef BASE_SPAWN_H_
#define BASE_SPAWN_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"

namespace base {

// A descriptor the child gets: `from` here is `to` in the child (not close-on-exec there).
struct FdMapping {
  int from;
  int to;
};

// How to start the child.
struct SpawnOptions {
  // The child's descriptors: exactly these; everything else is closed (stdio too, unless
  // mapped). Sources may be any open fds, targets any numbers, in any order.
  std::vector<FdMapping> fds;
  // PR_SET_PDEATHSIG(SIGKILL): the child dies with the thread that started it.
  bool die_with_parent = false;
  // The child leads a new process group (signals to its group reach nobody else).
  bool new_process_group = false;
  // Pins the child to this CPU; -1: the parent's CPUs.
  int cpu = -1;
  // The child's RLIMIT_NOFILE; unset: the parent's.
  absl::optional<rlimit> descriptor_limit;
};

// Starts `argv` (argv[0] is the path) with this process's environment, SIGPIPE at its
// default action, and the layout of `options`. Returns the child's pid (the caller reaps it).
// Errors: the failing step with its errno (the child is reaped then): `execve` ENOENT for a
// missing program, EBADF for a source fd that is not open, the fork error.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

// Like Spawn(), but the child runs `body` instead of a program and exits with what it
// returns. The child runs ordinary code, so call it only while this process has one thread.
absl::StatusOr<pid_t> ForkChild(const SpawnOptions& options, const std::function<int()>& body);

}  // namespace base

#endif  // BASE_SPAWN_H_
