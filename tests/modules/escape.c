/* escape: tries one way out of the sandbox, named by its first argument, and reports what
 * happened. Each attempt must be stopped: the loader kills the module (policy violation) or
 * the call fails with an errno. Cases that need sel_ldr's pid read it from stdin.
 *
 * Prints "escape: <case>" first, then "<what>: <errno name>" for attempts that return. If
 * an attempt ever succeeded, it says so ("... succeeded") and exits 42. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <nacl/imc_syscalls.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/modules/report.h"

extern char **environ;

/* Reports an attempt that returned: "<what>: <errno name>", or success. */
static void Returned(const char *what, long result) {
  if (result < 0) {
    printf("%s: %s\n", what, ErrnoName(errno));
    return;
  }
  printf("%s: succeeded (%ld)\n", what, result);
  exit(42);
}

static char *const kChildArgv[] = {"escape", "started-again", NULL};

/* execve of /bin/true from a thread that is not the main one. */
static void *ExecFromThread(void *unused) {
  (void)unused;
  Returned("execve from a thread", execve("/bin/true", kChildArgv, environ));
  return NULL;
}

/* Blocks in imc_recvmsg on a socket nobody writes to, into a buffer of its own. */
static void *BlockInRecvmsg(void *socket) {
  char buffer[64];
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  Returned("imc_recvmsg", imc_recvmsg(*(int *)socket, &header, 0));
  return NULL;
}

static void Socket(int family, int type) { Returned("socket", socket(family, type, 0)); }

static void ProbeDescriptors(void) {
  int refused = 0;
  int probed = 0;
  char byte;
  struct stat st;
  for (int d = 3; d < 1024; ++d) {
    ++probed;
    errno = 0;
    if (fstat(d, &st) == 0 || errno != EBADF) continue;
    if (read(d, &byte, 1) >= 0 || errno != EBADF) continue;
    if (write(d, "x", 1) >= 0 || errno != EBADF) continue;
    if (dup(d) >= 0 || errno != EBADF) continue;
    if (close(d) == 0 || errno != EBADF) continue;
    ++refused;
  }
  printf("probe: %d of %d descriptors refused with EBADF\n", refused, probed);
  void *mapped = mmap(NULL, 4096, PROT_READ, MAP_SHARED, 9, 0);
  Returned("mmap of descriptor 9", mapped == MAP_FAILED ? -1 : 0);
  Returned("ioctl on descriptor 9", ioctl(9, FIONREAD, &probed));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    printf("usage: escape CASE [ARG]\n");
    return 2;
  }
  const char *name = argv[1];
  const char *arg = argc > 2 ? argv[2] : "";
  printf("escape: %s\n", name);
  char path[64];
  char *const *child_argv = kChildArgv;

  if (strcmp(name, "open_read_only") == 0) {
    Returned("open /etc/passwd", open("/etc/passwd", O_RDONLY));
    Returned("openat /etc/passwd", openat(AT_FDCWD, "/etc/passwd", O_RDONLY));
    Returned("open /", open("/", O_RDONLY | O_DIRECTORY));
  } else if (strcmp(name, "create_file") == 0) {
    Returned("open O_CREAT", open(arg, O_WRONLY | O_CREAT | O_EXCL, 0644));
  } else if (strcmp(name, "write_file") == 0) {
    Returned("open O_WRONLY|O_TRUNC", open(arg, O_WRONLY | O_TRUNC));
  } else if (strcmp(name, "socket_unix") == 0) {
    Socket(AF_UNIX, SOCK_STREAM);
  } else if (strcmp(name, "socket_unix_seqpacket") == 0) {
    Socket(AF_UNIX, SOCK_SEQPACKET);
  } else if (strcmp(name, "socket_inet") == 0) {
    Socket(AF_INET, SOCK_STREAM);
  } else if (strcmp(name, "socket_inet6_udp") == 0) {
    Socket(AF_INET6, SOCK_DGRAM);
  } else if (strcmp(name, "socket_netlink") == 0) {
    Socket(AF_NETLINK, SOCK_RAW);
  } else if (strcmp(name, "socket_packet") == 0) {
    Socket(AF_PACKET, SOCK_RAW);
  } else if (strcmp(name, "socketpair") == 0) {
    int sv[2];
    Returned("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  } else if (strcmp(name, "wait_for_stdin") == 0) {
    /* Stays until the test has looked at this process from outside. */
    ReadLoaderPid();
  } else if (strcmp(name, "connect_abstract") == 0) {
    /* No socket can be made; try connect() on a descriptor number directly. */
    struct sockaddr_un address;
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    size_t length = strlen(arg);
    memcpy(address.sun_path + 1, arg, length); /* sun_path[0] == 0: abstract. */
    Returned("connect", connect(0, (struct sockaddr *)&address,
                                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length)));
  } else if (strcmp(name, "execve") == 0) {
    Returned("execve", execve("/bin/true", child_argv, environ));
  } else if (strcmp(name, "execveat") == 0) {
    Returned("execveat", syscall(SYS_execveat, AT_FDCWD, "/bin/true", child_argv, environ, 0));
  } else if (strcmp(name, "execve_self") == 0) {
    Returned("execve", execve("/proc/self/exe", child_argv, environ));
  } else if (strcmp(name, "execveat_self") == 0) {
    Returned("execveat", syscall(SYS_execveat, AT_FDCWD, "/proc/self/exe", child_argv, environ, 0));
  } else if (strcmp(name, "execveat_exec_fd") == 0) {
    /* The form of the loader's own exec: an fd, an empty path, AT_EMPTY_PATH. Once the module
     * runs no fd number passes (supervisor_test repeats the loader's exact call). */
    Returned("execveat(4096)", syscall(SYS_execveat, 4096, "", child_argv, environ, AT_EMPTY_PATH));
  } else if (strcmp(name, "execveat_exec_fd_absolute") == 0) {
    /* An absolute path ignores the fd: this once ran any host binary, when the filter allowed
     * execveat of fd 4096. */
    Returned("execveat(4096, /bin/true)",
             syscall(SYS_execveat, 4096, "/bin/true", child_argv, environ, AT_EMPTY_PATH));
  } else if (strcmp(name, "execveat_fd0_empty_path") == 0) {
    Returned("execveat(0, \"\")", syscall(SYS_execveat, 0, "", child_argv, environ, AT_EMPTY_PATH));
  } else if (strcmp(name, "execveat_shared_memory") == 0) {
    /* An ELF written into shared memory, executed through /proc/self/fd. */
    int shm = imc_mem_obj_create(65536);
    if (shm < 0) Fail("imc_mem_obj_create");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", shm);
    Returned("execveat(shm)", syscall(SYS_execveat, AT_FDCWD, path, child_argv, environ, 0));
  } else if (strcmp(name, "execveat_nofollow") == 0) {
    Returned("execveat", syscall(SYS_execveat, AT_FDCWD, "/bin/true", child_argv, environ,
                                 AT_SYMLINK_NOFOLLOW));
  } else if (strcmp(name, "execve_thread") == 0) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, ExecFromThread, NULL) != 0) Fail("pthread_create");
    pthread_join(thread, NULL);
  } else if (strcmp(name, "execve_while_blocked") == 0) {
    /* A thread blocked in imc_recvmsg while the main thread execs: the module dies and the
     * blocked call writes nowhere. */
    int pair[2];
    if (imc_socketpair(pair) != 0) Fail("imc_socketpair");
    pthread_t thread;
    if (pthread_create(&thread, NULL, BlockInRecvmsg, &pair[1]) != 0) Fail("pthread_create");
    usleep(100 * 1000);
    Returned("execve", execve("/bin/true", child_argv, environ));
  } else if (strcmp(name, "fork") == 0) {
    pid_t child = fork();
    if (child == 0) {
      printf("forked child running\n");
      _exit(42);
    }
    Returned("fork", child);
  } else if (strcmp(name, "fork_syscall") == 0) {
    Returned("fork", syscall(SYS_fork));
  } else if (strcmp(name, "vfork") == 0) {
    Returned("vfork", syscall(SYS_vfork));
  } else if (strcmp(name, "clone_sigchld") == 0) {
    Returned("clone", syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  } else if (strcmp(name, "clone_newuser") == 0) {
    Returned("clone", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
  } else if (strcmp(name, "clone3") == 0) {
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.exit_signal = SIGCHLD;
    Returned("clone3", syscall(SYS_clone3, &args, sizeof(args)));
  } else if (strcmp(name, "unshare_user") == 0) {
    Returned("unshare", unshare(CLONE_NEWUSER));
  } else if (strcmp(name, "unshare_net") == 0) {
    Returned("unshare", unshare(CLONE_NEWNET));
  } else if (strcmp(name, "setns") == 0) {
    Returned("setns", setns(0, CLONE_NEWNET));
  } else if (strcmp(name, "ptrace_attach") == 0) {
    pid_t loader = ReadLoaderPid();
    Returned("ptrace", ptrace(PTRACE_ATTACH, loader, 0, 0));
  } else if (strcmp(name, "ptrace_traceme") == 0) {
    Returned("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0));
  } else if (strcmp(name, "kill_loader") == 0) {
    pid_t loader = ReadLoaderPid();
    Returned("kill", kill(loader, SIGKILL));
  } else if (strcmp(name, "tgkill_loader") == 0) {
    pid_t loader = ReadLoaderPid();
    Returned("tgkill", syscall(SYS_tgkill, loader, loader, SIGKILL));
  } else if (strcmp(name, "kill_process_group") == 0) {
    Returned("kill", kill(0, SIGKILL));
  } else if (strcmp(name, "getppid") == 0) {
    Returned("getppid", getppid());
  } else if (strcmp(name, "process_vm_readv") == 0) {
    pid_t loader = ReadLoaderPid();
    char buffer[64];
    struct iovec local = {buffer, sizeof(buffer)};
    struct iovec remote = {(void *)0x400000, sizeof(buffer)};
    Returned("process_vm_readv", process_vm_readv(loader, &local, 1, &remote, 1, 0));
  } else if (strcmp(name, "process_vm_writev") == 0) {
    pid_t loader = ReadLoaderPid();
    char buffer[64] = {0};
    struct iovec local = {buffer, sizeof(buffer)};
    struct iovec remote = {(void *)0x400000, sizeof(buffer)};
    Returned("process_vm_writev", process_vm_writev(loader, &local, 1, &remote, 1, 0));
  } else if (strcmp(name, "open_loader_mem") == 0) {
    pid_t loader = ReadLoaderPid();
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)loader);
    Returned("open /proc/<loader>/mem", open(path, O_RDONLY));
    snprintf(path, sizeof(path), "/proc/%d/fd/0", (int)loader);
    Returned("open /proc/<loader>/fd/0", open(path, O_RDONLY));
  } else if (strcmp(name, "int80") == 0) {
    long result;
    __asm__ volatile("int $0x80" : "=a"(result) : "a"(20L) /* i386 getpid */ : "memory");
    Returned("int 0x80", result < 0 ? (errno = (int)-result, -1) : result);
  } else if (strcmp(name, "x32") == 0) {
    Returned("x32 getpid", syscall(0x40000000 | SYS_getpid));
  } else if (strcmp(name, "io_uring_setup") == 0) {
    char params[120];
    memset(params, 0, sizeof(params));
    Returned("io_uring_setup", syscall(SYS_io_uring_setup, 8, params));
  } else if (strcmp(name, "seccomp") == 0) {
    Returned("seccomp", syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL));
  } else if (strcmp(name, "prctl_seccomp") == 0) {
    Returned("prctl", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0));
  } else if (strcmp(name, "bpf") == 0) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    Returned("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
  } else if (strcmp(name, "userfaultfd") == 0) {
    Returned("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
  } else if (strcmp(name, "perf_event_open") == 0) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    Returned("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  } else if (strcmp(name, "probe_descriptors") == 0) {
    ProbeDescriptors();
  } else if (strcmp(name, "probe_fcntl") == 0) {
    Returned("fcntl", fcntl(9, F_GETFD));
  } else {
    printf("unknown case %s\n", name);
    return 2;
  }
  printf("escape: %s returned\n", name);
  return 0;
}
