// An ordinary C program using timers, sleeps, resource usage and thread names: alarm and
// pause, setitimer with sigsuspend, POSIX timers signalling the process, the calling thread
// (SIGEV_THREAD_ID) and a new thread (SIGEV_THREAD), sigtimedwait, nanosleep and
// clock_nanosleep, getrusage, times, sysconf, and pthread_setname_np. It prints only what is
// the same in every run: counts of ticks, success or failure, names.
#define _GNU_SOURCE  // strerrorname_np, RUSAGE_THREAD, pthread_setname_np (natively too).

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarm_ticks;
static volatile sig_atomic_t usr1_ticks;

static void OnAlarm(int signal) {
  (void)signal;
  ++alarm_ticks;
}

static void OnUsr1(int signal) {
  (void)signal;
  ++usr1_ticks;
}

static const char* YesNo(int condition) { return condition ? "yes" : "no"; }

static const char* Outcome(int rc) { return rc == 0 ? "ok" : strerrorname_np(errno); }

static double Now(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void Handle(int signal, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, NULL);
}

// alarm(): the seconds left, then one SIGALRM that ends pause() with EINTR.
static void Alarm(void) {
  Handle(SIGALRM, OnAlarm);
  alarm(5);
  printf("alarm: seconds left of alarm(5): %u\n", alarm(0));
  alarm_ticks = 0;
  alarm(1);
  int rc = pause();
  printf("alarm: pause returned %d (%s), ticks %d\n", rc, strerrorname_np(errno), (int)alarm_ticks);
}

// setitimer(ITIMER_REAL) every 10 ms, counted with SIGALRM blocked and sigsuspend.
static void IntervalTimer(void) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGALRM);
  sigprocmask(SIG_BLOCK, &block, &old);
  alarm_ticks = 0;
  struct itimerval every = {{0, 10000}, {0, 10000}};
  int rc = setitimer(ITIMER_REAL, &every, NULL);
  printf("setitimer: %s\n", Outcome(rc));
  if (rc != 0) {  // No ticks to wait for.
    sigprocmask(SIG_SETMASK, &old, NULL);
    return;
  }
  struct itimerval current;
  getitimer(ITIMER_REAL, &current);
  printf("getitimer: armed %s, interval 10 ms %s\n",
         YesNo(current.it_value.tv_sec != 0 || current.it_value.tv_usec != 0),
         YesNo(current.it_interval.tv_usec == 10000));
  int suspends = 0;
  while (alarm_ticks < 5) {
    sigsuspend(&old);  // Returns -1 EINTR after each handler.
    ++suspends;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  sigprocmask(SIG_SETMASK, &old, NULL);
  getitimer(ITIMER_REAL, &current);
  printf("setitimer: %d ticks by sigsuspend, at least one per wake %s, disarmed %s\n",
         (int)alarm_ticks, YesNo(suspends <= 5),
         YesNo(current.it_value.tv_sec == 0 && current.it_value.tv_usec == 0));
}

// A POSIX timer with SIGEV_SIGNAL (SIGUSR1 to the process) every 5 ms, taken by sigtimedwait
// with the signal blocked; then gettime, delete, and gettime of the deleted timer.
static void PosixTimerSignal(void) {
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, &old);
  struct sigevent event;
  memset(&event, 0, sizeof event);
  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = SIGUSR1;
  event.sigev_value.sival_int = 42;
  timer_t timer;
  printf("timer_create SIGEV_SIGNAL: %s\n", Outcome(timer_create(CLOCK_MONOTONIC, &event, &timer)));
  struct itimerspec every = {{0, 5000000}, {0, 5000000}};
  printf("timer_settime: %s\n", Outcome(timer_settime(timer, 0, &every, NULL)));
  struct itimerspec current;
  const char* outcome = Outcome(timer_gettime(timer, &current));
  printf("timer_gettime: %s, armed %s\n", outcome,
         YesNo(current.it_value.tv_sec != 0 || current.it_value.tv_nsec != 0));
  int received = 0;
  int from_timer = 0;
  struct timespec wait = {2, 0};
  for (int i = 0; i < 3; ++i) {
    siginfo_t info;
    if (sigtimedwait(&usr1, &info, &wait) == SIGUSR1) {
      ++received;
      if (info.si_code == SI_TIMER && info.si_value.sival_int == 42) ++from_timer;
    }
  }
  printf("timer signals: %d taken by sigtimedwait, %d with SI_TIMER and the value\n", received,
         from_timer);
  printf("timer_getoverrun: %s\n", YesNo(timer_getoverrun(timer) >= 0));
  printf("timer_delete: %s\n", Outcome(timer_delete(timer)));
  printf("timer_gettime of a deleted timer: %s\n", Outcome(timer_gettime(timer, &current)));
  // Drain a signal the timer may have sent before it was deleted.
  struct timespec zero = {0, 0};
  while (sigtimedwait(&usr1, NULL, &zero) == SIGUSR1) {
  }
  errno = 0;
  int rc = sigtimedwait(&usr1, NULL, &zero);
  printf("sigtimedwait with nothing pending: %d (%s)\n", rc, strerrorname_np(errno));
  sigprocmask(SIG_SETMASK, &old, NULL);
}

// A one-shot POSIX timer aimed at the calling thread (SIGEV_THREAD_ID), handled by a handler
// while the thread waits in nanosleep.
static void PosixTimerToThread(void) {
  Handle(SIGUSR1, OnUsr1);
  usr1_ticks = 0;
  struct sigevent event;
  memset(&event, 0, sizeof event);
  event.sigev_notify = SIGEV_THREAD_ID;
  event.sigev_signo = SIGUSR1;
  event._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  timer_t timer;
  printf("timer_create SIGEV_THREAD_ID: %s\n",
         Outcome(timer_create(CLOCK_REALTIME, &event, &timer)));
  struct itimerspec once = {{0, 0}, {0, 10000000}};
  timer_settime(timer, 0, &once, NULL);
  struct timespec sleep = {2, 0};
  int rc = nanosleep(&sleep, &sleep);
  printf("nanosleep ended by the thread's timer: %d (%s), ticks %d\n", rc, strerrorname_np(errno),
         (int)usr1_ticks);
  struct itimerspec current;
  timer_gettime(timer, &current);
  printf("one-shot timer disarmed after firing: %s\n",
         YesNo(current.it_value.tv_sec == 0 && current.it_value.tv_nsec == 0));
  timer_delete(timer);
  Handle(SIGUSR1, SIG_DFL);
}

static atomic_int thread_notifications;
static pthread_mutex_t notified_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notified = PTHREAD_COND_INITIALIZER;

static void OnTimerThread(union sigval value) {
  pthread_mutex_lock(&notified_mu);
  atomic_fetch_add(&thread_notifications, value.sival_int);
  pthread_cond_signal(&notified);
  pthread_mutex_unlock(&notified_mu);
}

// A POSIX timer with SIGEV_THREAD: glibc runs the function on a thread of its own.
static void PosixTimerThread(void) {
  struct sigevent event;
  memset(&event, 0, sizeof event);
  event.sigev_notify = SIGEV_THREAD;
  event.sigev_notify_function = OnTimerThread;
  event.sigev_value.sival_int = 1;
  timer_t timer;
  printf("timer_create SIGEV_THREAD: %s\n", Outcome(timer_create(CLOCK_MONOTONIC, &event, &timer)));
  struct itimerspec every = {{0, 5000000}, {0, 5000000}};
  timer_settime(timer, 0, &every, NULL);
  pthread_mutex_lock(&notified_mu);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 5;
  while (atomic_load(&thread_notifications) < 3) {
    if (pthread_cond_timedwait(&notified, &notified_mu, &deadline) == ETIMEDOUT) break;
  }
  pthread_mutex_unlock(&notified_mu);
  timer_delete(timer);
  printf("SIGEV_THREAD notifications: at least 3 %s\n",
         YesNo(atomic_load(&thread_notifications) >= 3));
}

static void Sleeps(void) {
  double start = Now(CLOCK_MONOTONIC);
  struct timespec twenty_ms = {0, 20000000};
  int rc = nanosleep(&twenty_ms, NULL);
  printf("nanosleep 20 ms: %d, slept long enough %s\n", rc,
         YesNo(Now(CLOCK_MONOTONIC) - start >= 0.020));
  start = Now(CLOCK_MONOTONIC);
  rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &twenty_ms, NULL);
  printf("clock_nanosleep relative: %d, slept long enough %s\n", rc,
         YesNo(Now(CLOCK_MONOTONIC) - start >= 0.020));
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += 20000000;
  if (until.tv_nsec >= 1000000000) {
    until.tv_nsec -= 1000000000;
    ++until.tv_sec;
  }
  rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL);
  struct timespec after;
  clock_gettime(CLOCK_REALTIME, &after);
  printf("clock_nanosleep absolute: %d, woke after the deadline %s\n", rc,
         YesNo(after.tv_sec > until.tv_sec ||
               (after.tv_sec == until.tv_sec && after.tv_nsec >= until.tv_nsec)));
  struct timespec resolution;
  printf("clock_getres CLOCK_MONOTONIC: %s\n", Outcome(clock_getres(CLOCK_MONOTONIC, &resolution)));
}

// Burns about `seconds` of the process's CPU time.
static void Spin(double seconds) {
  double start = Now(CLOCK_PROCESS_CPUTIME_ID);
  volatile unsigned long sink = 0;
  while (Now(CLOCK_PROCESS_CPUTIME_ID) - start < seconds) {
    for (int i = 0; i < 10000; ++i) sink += (unsigned long)i;
  }
}

static double Seconds(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec / 1e6; }

// Each call is made before the printf that shows its result (argument order is unspecified).
static void Usage(void) {
  Spin(0.05);
  struct rusage self, thread, children;
  const char* outcome = Outcome(getrusage(RUSAGE_SELF, &self));
  printf("getrusage RUSAGE_SELF: %s\n", outcome);
  printf("  cpu time at least 40 ms %s, max rss > 0 %s\n",
         YesNo(Seconds(self.ru_utime) + Seconds(self.ru_stime) >= 0.04), YesNo(self.ru_maxrss > 0));
  outcome = Outcome(getrusage(RUSAGE_THREAD, &thread));
  printf("getrusage RUSAGE_THREAD: %s, cpu time > 0 %s\n", outcome,
         YesNo(Seconds(thread.ru_utime) + Seconds(thread.ru_stime) > 0));
  outcome = Outcome(getrusage(RUSAGE_CHILDREN, &children));
  printf("getrusage RUSAGE_CHILDREN: %s, no children's time %s\n", outcome,
         YesNo(Seconds(children.ru_utime) + Seconds(children.ru_stime) == 0));
  errno = 0;
  int rc = getrusage(7, &self);
  printf("getrusage(7): %d (%s)\n", rc, strerrorname_np(errno));
  struct tms tms;
  clock_t now = times(&tms);
  printf("times: %s, ticks > 0 %s, children none %s\n", YesNo(now != (clock_t)-1),
         YesNo(tms.tms_utime + tms.tms_stime > 0), YesNo(tms.tms_cutime + tms.tms_cstime == 0));
}

static void Sysconf(void) {
  printf("sysconf(_SC_CLK_TCK): %ld\n", sysconf(_SC_CLK_TCK));
  printf("sysconf(_SC_NPROCESSORS_ONLN) >= 1: %s\n", YesNo(sysconf(_SC_NPROCESSORS_ONLN) >= 1));
  printf("sysconf(_SC_NPROCESSORS_CONF) >= 1: %s\n", YesNo(sysconf(_SC_NPROCESSORS_CONF) >= 1));
  printf("sysconf(_SC_PHYS_PAGES) > 0: %s\n", YesNo(sysconf(_SC_PHYS_PAGES) > 0));
  printf("sysconf(_SC_AVPHYS_PAGES) > 0: %s\n", YesNo(sysconf(_SC_AVPHYS_PAGES) > 0));
  printf("sysconf(_SC_PAGESIZE): %ld\n", sysconf(_SC_PAGESIZE));
}

static void* NamedThread(void* arg) {
  (void)arg;
  char name[16];
  int set = pthread_setname_np(pthread_self(), "worker-7");
  int got = pthread_getname_np(pthread_self(), name, sizeof name);
  printf("thread: setname %d, getname %d, name %s\n", set, got, name);
  return NULL;
}

static void ThreadNames(void) {
  char name[16];
  int set = pthread_setname_np(pthread_self(), "timers-main");
  int got = pthread_getname_np(pthread_self(), name, sizeof name);
  printf("main: setname %d, getname %d, name %s\n", set, got, name);
  printf("setname of 16 characters: %s\n",
         strerrorname_np(pthread_setname_np(pthread_self(), "sixteen-chars-xx")));
  printf("getname into 4 bytes: %s\n",
         strerrorname_np(pthread_getname_np(pthread_self(), name, 4)));
  pthread_t thread;
  pthread_create(&thread, NULL, NamedThread, NULL);
  pthread_join(thread, NULL);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  Alarm();
  IntervalTimer();
  PosixTimerSignal();
  PosixTimerToThread();
  PosixTimerThread();
  Sleeps();
  Usage();
  Sysconf();
  ThreadNames();
  return 0;
}
