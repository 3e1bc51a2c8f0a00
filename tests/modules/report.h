/* What the test modules print: one line per case, which the tests parse and assert. */
#ifndef TESTS_MODULES_REPORT_H_
#define TESTS_MODULES_REPORT_H_

#include <errno.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The name of errno value `error` ("EBADF"), or "ok" for 0. */
const char *ErrnoName(int error);

/* Prints "CASE <name> expected=<expected> actual=<actual>" on stdout and flushes it. */
void ReportCase(const char *name, const char *expected, const char *actual);

/* Prints "FAIL <what>: <errno name>" and exits with status 1: a step a case needs failed. */
void Fail(const char *what) __attribute__((noreturn));

/* Reads the line the test writes on stdin, sel_ldr's pid, and returns it; Fail()s without
 * one. */
pid_t ReadLoaderPid(void);

/* Runs `call`, a call that returns -1 and sets errno on failure, and reports case `name`
 * with the errno it should fail with (0: it should succeed). */
#define EXPECT_ERRNO(name, expected, call)                             \
  do {                                                                 \
    errno = 0;                                                         \
    long report_result_ = (long)(call);                                \
    int report_errno_ = report_result_ < 0 ? errno : 0;                \
    ReportCase((name), ErrnoName(expected), ErrnoName(report_errno_)); \
  } while (0)

#ifdef __cplusplus
}
#endif

#endif /* TESTS_MODULES_REPORT_H_ */
