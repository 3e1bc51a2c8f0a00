/*
 * The batch protocol between sandbox_bench and its modules, over the module's stdin and
 * stdout (pipes from the benchmark): the module first writes its pid, then for each count it
 * reads it performs that many operations and writes back how many failed. Every value is one
 * int64_t. End of input ends the module with status 0.
 */
#ifndef TOOLS_BENCH_MODULES_BATCH_IO_H_
#define TOOLS_BENCH_MODULES_BATCH_IO_H_

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

/* Reads exactly `size` bytes from `fd`. Returns 0, or -1 at end of input or on an error. */
static inline int ReadAll(int fd, void *out, size_t size) {
  char *p = (char *)out;
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    size -= (size_t)n;
  }
  return 0;
}

/* Writes all `size` bytes to `fd`. Returns 0 or -1. */
static inline int WriteAll(int fd, const void *data, size_t size) {
  const char *p = (const char *)data;
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    size -= (size_t)n;
  }
  return 0;
}

/* Sends this process's pid: the benchmark learns the module is running, and whom to pin. */
static inline int ReportPid(void) {
  int64_t pid = getpid();
  return WriteAll(1, &pid, sizeof(pid));
}

/* Serves batches with `operation` until the end of input. Returns the exit status. */
static inline int ServeBatches(int (*operation)(void)) {
  if (ReportPid() != 0) return 1;
  for (;;) {
    int64_t count;
    if (ReadAll(0, &count, sizeof(count)) != 0) return 0;
    int64_t failures = 0;
    for (int64_t i = 0; i < count; ++i) {
      if (operation() != 0) ++failures;
    }
    if (WriteAll(1, &failures, sizeof(failures)) != 0) return 1;
  }
}

#endif /* TOOLS_BENCH_MODULES_BATCH_IO_H_ */
