#define _GNU_SOURCE
#include "tests/modules/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ErrnoName(int error) {
  if (error == 0) return "ok";
  const char *name = strerrorname_np(error);
  return name != NULL ? name : "E?";
}

void ReportCase(const char *name, const char *expected, const char *actual) {
  printf("CASE %s expected=%s actual=%s\n", name, expected, actual);
  fflush(stdout);
}

void Fail(const char *what) {
  int error = errno;
  printf("FAIL %s: %s\n", what, ErrnoName(error));
  fflush(stdout);
  exit(1);
}

pid_t ReadLoaderPid(void) {
  char line[32];
  ssize_t n = read(0, line, sizeof(line) - 1);
  if (n <= 0) Fail("read the loader's pid from stdin");
  line[n] = '\0';
  return (pid_t)atoi(line);
}
