/* Walks the x86-64 syscall table from inside a module (tests/syscall_walk_test.cc).
 *
 *   syscall_walk call N...   calls each syscall N in turn with arguments that are all -1
 *                            (bad descriptors, bad pointers, impossible sizes and flags,
 *                            pid -1), printing "N <result> <errno>" before ("calling N") and
 *                            after each, so that a run killed for a policy violation shows
 *                            which call it was.
 *   syscall_walk process     exercises the process calls a libc program makes, with honest
 *                            arguments, one CASE line each (report.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "tests/modules/report.h"

static void WalkCalls(int argc, char **argv) {
  const long bad = -1;
  for (int i = 0; i < argc; ++i) {
    long nr = strtol(argv[i], NULL, 10);
    printf("calling %ld\n", nr);
    fflush(stdout);
    errno = 0;
    long result = syscall(nr, bad, bad, bad, bad, bad, bad);
    printf("%ld %ld %s\n", nr, result < 0 ? -1L : result, ErrnoName(result < 0 ? errno : 0));
    fflush(stdout);
  }
}

static volatile sig_atomic_t alarms;
static void OnAlarm(int signal) {
  (void)signal;
  ++alarms;
}

static void ProcessCalls(void) {
  char cwd[64] = "";
  ReportCase("getcwd", "/", getcwd(cwd, sizeof(cwd)) != NULL ? cwd : ErrnoName(errno));
  char tiny[1];
  EXPECT_ERRNO("getcwd_tiny", ERANGE, getcwd(tiny, sizeof(tiny)) != NULL ? 0 : -1);
  struct sysinfo info;
  if (sysinfo(&info) != 0) Fail("sysinfo");
  char ram[64];
  snprintf(ram, sizeof(ram), "%llu", (unsigned long long)info.totalram * info.mem_unit);
  ReportCase("sysinfo_totalram", getenv("EXPECTED_RAM"), ram);
  snprintf(ram, sizeof(ram), "%ld", sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE));
  ReportCase("sysconf_phys_pages", getenv("EXPECTED_RAM"), ram);
  ReportCase("getppid", "0", getppid() == 0 ? "0" : "other");
  struct tms t;
  EXPECT_ERRNO("times", 0, times(&t));
  struct rusage usage;
  EXPECT_ERRNO("getrusage_self", 0, getrusage(RUSAGE_SELF, &usage));
  EXPECT_ERRNO("getrusage_thread", 0, getrusage(RUSAGE_THREAD, &usage));
  EXPECT_ERRNO("getrusage_children", 0, getrusage(RUSAGE_CHILDREN, &usage));
  struct sched_param param;
  EXPECT_ERRNO("sched_getparam_self", 0, sched_getparam(0, &param));
  EXPECT_ERRNO("sched_getscheduler_self", 0, sched_getscheduler(0));
  EXPECT_ERRNO("sched_getparam_pid1", ESRCH, sched_getparam(1, &param));
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) Fail("sched_getaffinity");
  EXPECT_ERRNO("sched_setaffinity_self", 0, sched_setaffinity(0, sizeof(cpus), &cpus));
  EXPECT_ERRNO("sched_setaffinity_pid1", ESRCH, sched_setaffinity(1, sizeof(cpus), &cpus));
  EXPECT_ERRNO("setpriority_self", 0, setpriority(PRIO_PROCESS, 0, 5));
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  ReportCase("getpriority_self", "5", nice == 5 ? "5" : ErrnoName(errno));
  EXPECT_ERRNO("setpriority_pid1", ESRCH, setpriority(PRIO_PROCESS, 1, 5));
  EXPECT_ERRNO("prctl_set_name", 0, prctl(PR_SET_NAME, "walker"));
  char name[16] = "";
  prctl(PR_GET_NAME, name);
  ReportCase("prctl_get_name", "walker", name);
  EXPECT_ERRNO("prctl_dumpable", ENOSYS, prctl(PR_SET_DUMPABLE, 0));

  /* Timers signal the module itself. */
  signal(SIGALRM, OnAlarm);
  struct itimerval interval = {{0, 0}, {0, 20000}};
  EXPECT_ERRNO("setitimer", 0, setitimer(ITIMER_REAL, &interval, NULL));
  EXPECT_ERRNO("pause", EINTR, pause());
  alarm(1);
  EXPECT_ERRNO("alarm_pending", 0, (long)alarm(0) - 1);
  sigset_t none;
  sigemptyset(&none);
  EXPECT_ERRNO("setitimer_again", 0, setitimer(ITIMER_REAL, &interval, NULL));
  EXPECT_ERRNO("sigsuspend", EINTR, sigsuspend(&none));
  struct sigevent event;
  memset(&event, 0, sizeof(event));
  event.sigev_notify = SIGEV_THREAD_ID;
  event.sigev_signo = SIGALRM;
  event._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  timer_t timer;
  EXPECT_ERRNO("timer_create_own_thread", 0, timer_create(CLOCK_MONOTONIC, &event, &timer));
  struct itimerspec soon = {{0, 0}, {0, 20000000}};
  EXPECT_ERRNO("timer_settime", 0, timer_settime(timer, 0, &soon, NULL));
  sigset_t alarm_only;
  sigemptyset(&alarm_only);
  sigaddset(&alarm_only, SIGALRM);
  sigprocmask(SIG_BLOCK, &alarm_only, NULL);
  struct timespec wait = {5, 0};
  int got = sigtimedwait(&alarm_only, NULL, &wait);
  ReportCase("sigtimedwait", "SIGALRM", got == SIGALRM ? "SIGALRM" : ErrnoName(errno));
  EXPECT_ERRNO("timer_getoverrun", 0, timer_getoverrun(timer));
  struct itimerspec left;
  EXPECT_ERRNO("timer_gettime", 0, timer_gettime(timer, &left));
  EXPECT_ERRNO("timer_delete", 0, timer_delete(timer));
  /* The kernel refuses a thread outside the caller's thread group (pid 1's). */
  event._sigev_un._tid = 1;
  EXPECT_ERRNO("timer_create_foreign_thread", EINVAL,
               timer_create(CLOCK_MONOTONIC, &event, &timer));
  ReportCase("alarms", "2", alarms == 2 ? "2" : "other");

  /* The module's own memory. */
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  char *memory = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) Fail("mmap");
  memory[0] = 1;
  EXPECT_ERRNO("mlock", 0, mlock(memory, page));
  EXPECT_ERRNO("munlock", 0, munlock(memory, page));
  EXPECT_ERRNO("msync", 0, msync(memory, page, MS_SYNC));
  unsigned char resident = 0;
  EXPECT_ERRNO("mincore", 0, mincore(memory, page, &resident));
  ReportCase("mincore_resident", "1", (resident & 1) ? "1" : "0");
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "call") == 0) {
    WalkCalls(argc - 2, argv + 2);
  } else if (argc == 2 && strcmp(argv[1], "process") == 0) {
    ProcessCalls();
  } else {
    fprintf(stderr, "usage: syscall_walk call N... | process\n");
    return 2;
  }
  return 0;
}
