/* hostile_args: calls the filter allows (or answers), with arguments aimed at other processes
 * (sel_ldr's pid, read from stdin, and pid 1), at host state (priority-inheritance futexes,
 * other processes' CPU clocks, the host name) and at the kernel's argument checks (bad
 * pointers, huge sizes, stray high bits). Every call must fail with its errno, or succeed
 * where it acts on the module alone; none may kill the module.
 *
 * Prints one "CASE <name> expected=<errno> actual=<errno>" line per call (hostile_args_test.cc
 * asserts them), then:
 *   "getppid <value>"
 *   "fstat <d> ino=<n> dev=<n> rdev=<n> uid=<n> gid=<n>" for descriptors 0, 1 and 3 (libc's
 *     fstat) and "nacl_fstat 3 ino=<n>" (the NaCl call);
 *   "exec shared memory: <value>" after running code it wrote into shared memory;
 * and "hostile_args: done", and exits 0.
 *
 * Expects a line with sel_ldr's pid on stdin and a readable HostIo descriptor 3 (sel_ldr -r). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "tests/modules/report.h"

#define BAD_POINTER ((long)8)
#define KERNEL_POINTER ((long)0xffff800000001000ULL)

/* Linux's CPU-clock ids (include/linux/posix-timers.h): the process clock of `pid`, and
 * the clock device open at fd `fd`. */
#define PROCESS_CPU_CLOCK(pid) ((long)(int)((~(unsigned)(pid) << 3) | 2u))
#define FD_CLOCK(fd) ((long)(int)((~(unsigned)(fd) << 3) | 3u))

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

struct Case {
  const char *name;
  long nr;
  long args[6];
  int expected; /* The errno; 0: the call succeeds (on the module alone). */
};

static void RunCases(const struct Case *cases, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const long *a = cases[i].args;
    EXPECT_ERRNO(cases[i].name, cases[i].expected,
                 syscall(cases[i].nr, a[0], a[1], a[2], a[3], a[4], a[5]));
  }
}

static unsigned char mask[8192];
static struct rlimit limit;
static struct timespec when;
static long robust_head;
static size_t robust_length;

/* A PI futex word that names sel_ldr's main thread as its owner, and a second word. */
static uint32_t pi_word;
static uint32_t other_word;

static void RunHostileCases(pid_t loader, pid_t self) {
  const long l = loader;
  const long s = self;
  const long word = (long)&pi_word;
  const long other = (long)&other_word;
  pi_word = (uint32_t)loader;
  clock_gettime(CLOCK_REALTIME, &when);
  when.tv_sec -= 1; /* A deadline in the past. */
  const struct rlimit lower = {1, 1};
  const struct Case cases[] = {
      /* sched_getaffinity: the caller (pid 0) only. */
      {"sched_getaffinity_loader", SYS_sched_getaffinity, {l, sizeof(mask), (long)mask}, ESRCH},
      {"sched_getaffinity_init", SYS_sched_getaffinity, {1, sizeof(mask), (long)mask}, ESRCH},
      {"sched_getaffinity_own_pid", SYS_sched_getaffinity, {s, sizeof(mask), (long)mask}, ESRCH},
      {"sched_getaffinity_minus_one", SYS_sched_getaffinity, {-1, sizeof(mask), (long)mask}, ESRCH},
      {"sched_getaffinity_high_bits",
       SYS_sched_getaffinity,
       {(1L << 32) | l, sizeof(mask), (long)mask},
       ESRCH},
      {"sched_getaffinity_self", SYS_sched_getaffinity, {0, sizeof(mask), (long)mask}, 0},
      {"sched_getaffinity_huge_size", SYS_sched_getaffinity, {0, (long)0xfffffff8u, (long)mask}, 0},
      {"sched_getaffinity_tiny_size", SYS_sched_getaffinity, {0, 1, (long)mask}, EINVAL},
      {"sched_getaffinity_bad_pointer",
       SYS_sched_getaffinity,
       {0, sizeof(mask), BAD_POINTER},
       EFAULT},
      {"sched_getaffinity_kernel_pointer",
       SYS_sched_getaffinity,
       {0, sizeof(mask), KERNEL_POINTER},
       EFAULT},
      /* get_robust_list: the caller's only. */
      {"get_robust_list_loader",
       SYS_get_robust_list,
       {l, (long)&robust_head, (long)&robust_length},
       ESRCH},
      {"get_robust_list_init",
       SYS_get_robust_list,
       {1, (long)&robust_head, (long)&robust_length},
       ESRCH},
      {"get_robust_list_self",
       SYS_get_robust_list,
       {0, (long)&robust_head, (long)&robust_length},
       0},
      {"get_robust_list_bad_pointer", SYS_get_robust_list, {0, BAD_POINTER, BAD_POINTER}, EFAULT},
      {"set_robust_list_bad_length", SYS_set_robust_list, {BAD_POINTER, 1}, EINVAL},
      /* futex: priority inheritance is absent; the word names sel_ldr as the owner. */
      {"futex_lock_pi", SYS_futex, {word, FUTEX_LOCK_PI, 0, 0, 0, 0}, ENOSYS},
      {"futex_lock_pi_private", SYS_futex, {word, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0}, ENOSYS},
      {"futex_unlock_pi", SYS_futex, {word, FUTEX_UNLOCK_PI, 0, 0, 0, 0}, ENOSYS},
      {"futex_unlock_pi_private", SYS_futex, {word, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0}, ENOSYS},
      {"futex_trylock_pi", SYS_futex, {word, FUTEX_TRYLOCK_PI, 0, 0, 0, 0}, ENOSYS},
      {"futex_trylock_pi_private", SYS_futex, {word, FUTEX_TRYLOCK_PI_PRIVATE, 0, 0, 0, 0}, ENOSYS},
      {"futex_wait_requeue_pi", SYS_futex, {other, FUTEX_WAIT_REQUEUE_PI, 0, 0, word, 0}, ENOSYS},
      {"futex_wait_requeue_pi_realtime",
       SYS_futex,
       {other, FUTEX_WAIT_REQUEUE_PI | FUTEX_CLOCK_REALTIME, 0, (long)&when, word, 0},
       ENOSYS},
      {"futex_cmp_requeue_pi", SYS_futex, {other, FUTEX_CMP_REQUEUE_PI, 1, 1, word, 0}, ENOSYS},
      {"futex_cmp_requeue_pi_private",
       SYS_futex,
       {other, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 1, word, 0},
       ENOSYS},
      {"futex_lock_pi2", SYS_futex, {word, FUTEX_LOCK_PI2, 0, 0, 0, 0}, ENOSYS},
      {"futex_lock_pi2_realtime",
       SYS_futex,
       {word, FUTEX_LOCK_PI2 | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME, 0, (long)&when, 0, 0},
       ENOSYS},
      {"futex_fd", SYS_futex, {word, 2 /* FUTEX_FD */, 0, 0, 0, 0}, ENOSYS},
      /* futex: the operations glibc uses, with hostile arguments. */
      {"futex_wait_bad_pointer", SYS_futex, {BAD_POINTER, FUTEX_WAIT, 0, 0, 0, 0}, EFAULT},
      {"futex_wait_kernel_pointer", SYS_futex, {KERNEL_POINTER, FUTEX_WAIT, 0, 0, 0, 0}, EFAULT},
      {"futex_wait_changed", SYS_futex, {other, FUTEX_WAIT_PRIVATE, 1, 0, 0, 0}, EAGAIN},
      {"futex_wait_bitset_realtime_past",
       SYS_futex,
       {other, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, (long)&when, 0, -1},
       ETIMEDOUT},
      {"futex_wait_bitset_zero_mask", SYS_futex, {other, FUTEX_WAIT_BITSET, 0, 0, 0, 0}, EINVAL},
      {"futex_wake_bad_pointer", SYS_futex, {BAD_POINTER, FUTEX_WAKE, 1, 0, 0, 0}, EFAULT},
      {"futex_wake_high_bits", SYS_futex, {other, (long)0xdead000000000000ULL | FUTEX_WAKE, 1}, 0},
      {"futex_wake_realtime", SYS_futex, {other, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1}, ENOSYS},
      {"futex_wake_op_bad_pointer",
       SYS_futex,
       {other, FUTEX_WAKE_OP, 1, 1, BAD_POINTER, 0},
       EFAULT},
      {"futex_cmp_requeue_changed", SYS_futex, {other, FUTEX_CMP_REQUEUE, 1, 1, word, 1}, EAGAIN},
      {"futex_requeue_bad_pointer",
       SYS_futex,
       {other, FUTEX_REQUEUE, 1, 1, BAD_POINTER, 0},
       EFAULT},
      /* prlimit64: the module's own limits, read only. */
      {"prlimit_loader", SYS_prlimit64, {l, RLIMIT_NOFILE, 0, (long)&limit}, ESRCH},
      {"prlimit_init", SYS_prlimit64, {1, RLIMIT_NOFILE, 0, (long)&limit}, ESRCH},
      {"prlimit_loader_set", SYS_prlimit64, {l, RLIMIT_NOFILE, (long)&lower, 0}, ESRCH},
      {"prlimit_set_own", SYS_prlimit64, {0, RLIMIT_NOFILE, (long)&lower, 0}, EPERM},
      {"prlimit_own", SYS_prlimit64, {0, RLIMIT_NOFILE, 0, (long)&limit}, 0},
      {"prlimit_bad_resource", SYS_prlimit64, {0, 1000, 0, (long)&limit}, EINVAL},
      {"prlimit_bad_pointer", SYS_prlimit64, {0, RLIMIT_NOFILE, 0, BAD_POINTER}, EFAULT},
      /* Signals: the module's own threads only. */
      {"tgkill_loader_thread", SYS_tgkill, {s, l, 0}, ESRCH},
      {"tgkill_init", SYS_tgkill, {s, 1, 0}, ESRCH},
      {"tgkill_negative_thread", SYS_tgkill, {s, -1, 0}, EINVAL},
      {"tgkill_own_thread", SYS_tgkill, {s, s, 0}, 0},
      {"tgkill_bad_signal", SYS_tgkill, {s, s, 1000}, EINVAL},
      {"kill_self_probe", SYS_kill, {s, 0}, 0},
      {"rt_sigaction_bad_size", SYS_rt_sigaction, {SIGUSR1, 0, 0, 1000}, EINVAL},
      {"rt_sigaction_bad_pointer", SYS_rt_sigaction, {SIGUSR1, BAD_POINTER, 0, 8}, EFAULT},
      {"rt_sigprocmask_bad_pointer", SYS_rt_sigprocmask, {SIG_BLOCK, BAD_POINTER, 0, 8}, EFAULT},
      {"sigaltstack_bad_pointer", SYS_sigaltstack, {BAD_POINTER, 0}, EFAULT},
      /* Clocks: the system's and the caller's own, not another process's. */
      {"clock_gettime_loader_cpu",
       SYS_clock_gettime,
       {PROCESS_CPU_CLOCK(loader), (long)&when},
       EINVAL},
      {"clock_gettime_init_cpu", SYS_clock_gettime, {PROCESS_CPU_CLOCK(1), (long)&when}, EINVAL},
      {"clock_getres_loader_cpu",
       SYS_clock_getres,
       {PROCESS_CPU_CLOCK(loader), (long)&when},
       EINVAL},
      {"clock_nanosleep_loader_cpu",
       SYS_clock_nanosleep,
       {PROCESS_CPU_CLOCK(loader), 0, (long)&when, 0},
       EINVAL},
      {"clock_gettime_clock_fd", SYS_clock_gettime, {FD_CLOCK(0), (long)&when}, EINVAL},
      {"clock_gettime_high_bits",
       SYS_clock_gettime,
       {(1L << 32) | CLOCK_MONOTONIC, (long)&when},
       EINVAL},
      {"clock_gettime_own_cpu", SYS_clock_gettime, {CLOCK_PROCESS_CPUTIME_ID, (long)&when}, 0},
      {"clock_gettime_bad_pointer", SYS_clock_gettime, {CLOCK_MONOTONIC, BAD_POINTER}, EFAULT},
      {"clock_gettime_unknown_clock", SYS_clock_gettime, {10, (long)&when}, EINVAL},
      {"nanosleep_bad_pointer", SYS_nanosleep, {BAD_POINTER, 0}, EFAULT},
      /* Host identity. */
      {"uname", SYS_uname, {(long)mask}, ENOSYS},
      {"getrandom_bad_pointer", SYS_getrandom, {BAD_POINTER, 16, 0}, EFAULT},
      /* Memory: the module's own address space. */
      {"mmap_huge",
       SYS_mmap,
       {0, 1L << 46, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0},
       ENOMEM},
      {"mmap_anonymous_fixed_kernel",
       SYS_mmap,
       {KERNEL_POINTER, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0},
       ENOMEM},
      {"mprotect_unaligned", SYS_mprotect, {BAD_POINTER, 4096, PROT_READ}, EINVAL},
      {"mprotect_kernel", SYS_mprotect, {KERNEL_POINTER, 4096, PROT_READ}, ENOMEM},
      {"munmap_unaligned", SYS_munmap, {BAD_POINTER, 4096}, EINVAL},
      {"mremap_unmapped", SYS_mremap, {4096, 4096, 8192, 0, 0}, EFAULT},
      {"madvise_unknown_advice", SYS_madvise, {(long)mask & ~4095L, 4096, 1000}, EINVAL},
      {"brk_kernel", SYS_brk, {KERNEL_POINTER}, 0},
  };
  RunCases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void ReportStat(const char *what, int d, const struct stat *st) {
  printf("%s %d ino=%llu dev=%llu rdev=%llu uid=%u gid=%u\n", what, d,
         (unsigned long long)st->st_ino, (unsigned long long)st->st_dev,
         (unsigned long long)st->st_rdev, (unsigned)st->st_uid, (unsigned)st->st_gid);
}

static void ReportDescriptorIdentity(void) {
  static const int kDescriptors[] = {0, 1, 3};
  for (size_t i = 0; i < sizeof(kDescriptors) / sizeof(kDescriptors[0]); ++i) {
    struct stat st;
    if (fstat(kDescriptors[i], &st) != 0) Fail("fstat");
    ReportStat("fstat", kDescriptors[i], &st);
  }
  struct nacl_abi_stat nacl;
  if (nacl_fstat(3, &nacl) != 0) Fail("NaCl fstat");
  printf("nacl_fstat 3 ino=%llu\n", (unsigned long long)nacl.nacl_abi_st_ino);
}

/* Maps shared memory executable at once (refused, as in NaCl), then writes `mov eax, 42; ret`
 * into a writable mapping, makes it executable and calls it. */
static void ExecuteSharedMemory(void) {
  static const unsigned char kCode[] = {0xb8, 42, 0, 0, 0, 0xc3};
  int memory = imc_mem_obj_create(NACL_ABI_MAP_PAGESIZE);
  if (memory < 0) Fail("imc_mem_obj_create");
  EXPECT_ERRNO(
      "mmap_shared_memory_exec", EINVAL,
      mmap(NULL, NACL_ABI_MAP_PAGESIZE, PROT_READ | PROT_EXEC, MAP_SHARED, memory, 0) == MAP_FAILED
          ? -1
          : 0);
  unsigned char *p =
      mmap(NULL, NACL_ABI_MAP_PAGESIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memory, 0);
  if (p == MAP_FAILED) Fail("mmap of shared memory");
  memcpy(p, kCode, sizeof(kCode));
  if (mprotect(p, NACL_ABI_MAP_PAGESIZE, PROT_READ | PROT_EXEC) != 0) Fail("mprotect PROT_EXEC");
  int (*code)(void) = (int (*)(void))(void *)p;
  printf("exec shared memory: %d\n", code());
  munmap(p, NACL_ABI_MAP_PAGESIZE);
  close(memory);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const pid_t loader = ReadLoaderPid();
  RunHostileCases(loader, getpid());
  printf("getppid %ld\n", syscall(SYS_getppid));
  ReportDescriptorIdentity();
  ExecuteSharedMemory();
  printf("hostile_args: done\n");
  return 0;
}
