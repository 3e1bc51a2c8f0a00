/* direct_path: uses and abuses the direct data path (docs/performance.md), the module's own
 * sendto/recvfrom on the IMC sockets the loader placed at their descriptors' numbers.
 * Descriptor 3 is a ConnectedSocket to the test (sel_ldr -i 3:FD). The first argument names
 * the case; the module prints "direct_path: <case>", then one line per step.
 *
 * Every case first makes one trapped exchange on descriptor 3 ("ready"), which places the
 * socket at number 3 in this process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kSocket = 3 };

static int Send(int d, const void *data, size_t size) {
  struct NaClAbiNaClImcMsgIoVec iov = {(void *)data, size};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  return imc_sendmsg(d, &header, 0);
}

/* Receives into `buffer` (room `size`, no descriptors); returns the bytes or -1, and the
 * header's flags in `*flags`. */
static int Receive(int d, void *buffer, size_t size, int *flags) {
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, size};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  int n = imc_recvmsg(d, &header, 0);
  if (flags != NULL) *flags = header.flags;
  return n;
}

/* The first exchange: trapped, and it places descriptor 3. */
static void Ready(void) {
  if (Send(kSocket, "ready", 5) != 5) Fail("send ready");
}

/* "<what>: <errno name>" for a raw call's result (the raw syscall returns -errno). */
static void Raw(const char *what, long result) {
  printf("%s: %s\n", what, result < 0 ? ErrnoName((int)-result) : "ok");
}

static long RawSyscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  long r = syscall(nr, a0, a1, a2, a3, a4, a5);
  return r < 0 ? -errno : r;
}

/* Echoes `count` messages from the test back to it. */
static void Echo(int count) {
  char buffer[256];
  for (int i = 0; i < count; ++i) {
    int flags = 0;
    int n = Receive(kSocket, buffer, sizeof(buffer), &flags);
    if (n < 0) Fail("receive");
    if (Send(kSocket, buffer, (size_t)n) != n) Fail("echo");
  }
  printf("echoed %d\n", count);
}

/* Receives `count` messages with no room for descriptors and prints each: its bytes, its
 * flags, and errno for a failure. */
static void ReceiveAndReport(int count) {
  char buffer[256];
  for (int i = 0; i < count; ++i) {
    int flags = 0;
    memset(buffer, 0, sizeof(buffer));
    int n = Receive(kSocket, buffer, sizeof(buffer), &flags);
    if (n < 0) {
      printf("received: %s\n", ErrnoName(errno));
    } else {
      printf("received %d '%.*s' flags %d\n", n, n, buffer, flags);
    }
  }
  Send(kSocket, "done", 4);
}

/* A raw sendmsg of SCM_RIGHTS with descriptor 3's number: a policy violation. */
static void RawSendmsgRights(void) {
  int fd = kSocket;
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof(control));
  char byte = 'x';
  struct iovec iov = {&byte, 1};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
  Raw("sendmsg SCM_RIGHTS", RawSyscall(SYS_sendmsg, kSocket, (long)&msg, MSG_NOSIGNAL, 0, 0, 0));
}

/* A raw recvmsg with a control buffer: a policy violation. */
static void RawRecvmsgControl(void) {
  char data[64];
  char control[256];
  struct iovec iov = {data, sizeof(data)};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  Raw("recvmsg", RawSyscall(SYS_recvmsg, kSocket, (long)&msg, 0, 0, 0, 0));
}

/* Blocks in imc_recvmsg on descriptor (intptr_t)arg; prints how it ended. */
static void *BlockedReceive(void *arg) {
  char buffer[64];
  int n = Receive((int)(intptr_t)arg, buffer, sizeof(buffer), NULL);
  if (n < 0) {
    printf("blocked receive: %s\n", ErrnoName(errno));
  } else {
    printf("blocked receive: %d '%.*s'\n", n, n, buffer);
  }
  return NULL;
}

/* Starts BlockedReceive on `d`, waits until it blocks in the kernel, then lets `how` close
 * `d`, sends "late" on `wake` if it is not -1, and waits for the thread (the test kills
 * sel_ldr if it never ends). */
static void CloseWhileBlocked(int d, const char *how, int wake) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, BlockedReceive, (void *)(intptr_t)d) != 0) Fail("thread");
  usleep(200 * 1000); /* Long enough to block in recvfrom. */
  int result = -1;
  if (strcmp(how, "nacl_close") == 0) {
    result = nacl_close(d);
  } else if (strcmp(how, "close") == 0) {
    result = close(d);
  } else if (strcmp(how, "dup2") == 0) {
    int other = nacl_dup(0);
    result = dup2(other, d) == d ? 0 : -1;
  } else if (strcmp(how, "dup3") == 0) {
    int other = nacl_dup(0);
    result = dup3(other, d, O_CLOEXEC) == d ? 0 : -1;
  }
  printf("%s: %s\n", how, result == 0 ? "ok" : ErrnoName(errno));
  if (wake != -1 && Send(wake, "late", 4) != 4) Fail("send late");
  pthread_join(thread, NULL);
}

/* A pair made by imc_socketpair, placed by one trapped exchange each way. */
static void PlacedPair(int pair[2]) {
  if (imc_socketpair(pair) != 0) Fail("imc_socketpair");
  char buffer[8];
  if (Send(pair[0], "p", 1) != 1 || Receive(pair[1], buffer, sizeof(buffer), NULL) != 1) {
    Fail("exchange on the pair");
  }
  if (Send(pair[1], "q", 1) != 1 || Receive(pair[0], buffer, sizeof(buffer), NULL) != 1) {
    Fail("exchange on the pair");
  }
}

/* --- Numbering under churn -------------------------------------------------------------- */

enum { kChurnPairs = 6, kChurnRounds = 3000 };

/* The pairs the churn keeps; a thread reads a number while another replaces it. */
static int churn[kChurnPairs][2];
static int churn_done;

static int ChurnNumber(int j, int end) { return __atomic_load_n(&churn[j][end], __ATOMIC_RELAXED); }

/* Receives on `d` through the loader (room for a descriptor makes the SDK trap), without
 * waiting. Returns the bytes, or -1 with errno. */
static int ReceiveTrapped(int d, char *buffer, size_t size) {
  int descv[1];
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, size};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, 1, 0};
  return imc_recvmsg(d, &header, NACL_ABI_IMC_NONBLOCK);
}

/* Sends on one end of each pair (directly once placed) and receives on the other through the
 * loader, whose successful calls place sockets, on whatever the numbers hold now, until the
 * churn ends. Any result is allowed: the numbers change under it, as any fd on Linux. */
static void *ChurnTraffic(void *unused) {
  (void)unused;
  char buffer[8];
  for (int i = 0; !__atomic_load_n(&churn_done, __ATOMIC_RELAXED); ++i) {
    const int j = i % kChurnPairs;
    const int from = (i / kChurnPairs) % 2;
    Send(ChurnNumber(j, from), "x", 1);
    ReceiveTrapped(ChurnNumber(j, 1 - from), buffer, sizeof(buffer));
  }
  return NULL;
}

/* Two threads send and receive while the main thread moves a new pair onto each pair's
 * numbers with dup2 (the old pair stays alive at other numbers for a while, so that a socket
 * placed at a stale number would still deliver), closes pairs and makes new ones in the
 * freed numbers, and dups. Then, for every pair the table holds, a message sent directly on
 * either end must arrive at the other end as the loader reads it: a number whose placed
 * socket were stale would send it elsewhere. Prints "consistent N" or the first mismatch. */
static void Churn(void) {
  int kept[kChurnPairs][2];
  for (int j = 0; j < kChurnPairs; ++j) {
    PlacedPair(churn[j]);
    kept[j][0] = kept[j][1] = -1;
  }
  pthread_t threads[2];
  for (int t = 0; t < 2; ++t) {
    if (pthread_create(&threads[t], NULL, ChurnTraffic, NULL) != 0) Fail("thread");
  }
  for (int round = 0; round < kChurnRounds; ++round) {
    const int j = round % kChurnPairs;
    switch (round % 3) {
      case 0: { /* A new pair at the same numbers; the old one kept until the next time. */
        for (int end = 0; end < 2; ++end) {
          if (kept[j][end] >= 0) nacl_close(kept[j][end]);
          kept[j][end] = nacl_dup(churn[j][end]);
        }
        int pair[2];
        PlacedPair(pair);
        for (int end = 0; end < 2; ++end) {
          dup2(pair[end], churn[j][end]);
          nacl_close(pair[end]);
        }
        break;
      }
      case 1: { /* Close the pair; a new pair takes the lowest free numbers. */
        nacl_close(churn[j][0]);
        nacl_close(churn[j][1]);
        int pair[2];
        PlacedPair(pair);
        __atomic_store_n(&churn[j][0], pair[0], __ATOMIC_RELAXED);
        __atomic_store_n(&churn[j][1], pair[1], __ATOMIC_RELAXED);
        break;
      }
      case 2: { /* A second slot, then closed again. */
        const int copy = nacl_dup(churn[j][0]);
        if (copy >= 0) nacl_close(copy);
        break;
      }
    }
  }
  __atomic_store_n(&churn_done, 1, __ATOMIC_RELAXED);
  for (int t = 0; t < 2; ++t) pthread_join(threads[t], NULL);

  char buffer[8];
  for (int j = 0; j < kChurnPairs; ++j) {
    for (int from = 0; from < 2; ++from) {
      const int sender = churn[j][from];
      const int receiver = churn[j][1 - from];
      while (ReceiveTrapped(receiver, buffer, sizeof(buffer)) >= 0) {
      }
      const char marker = (char)('A' + j);
      if (Send(sender, &marker, 1) != 1) {
        printf("pair %d: send on %d: %s\n", j, sender, ErrnoName(errno));
        return;
      }
      const int n = ReceiveTrapped(receiver, buffer, sizeof(buffer));
      if (n != 1 || buffer[0] != marker) {
        printf("pair %d: %d to %d: the marker did not arrive: %s\n", j, sender, receiver,
               n < 0 ? ErrnoName(errno) : "another message");
        return;
      }
    }
  }
  printf("consistent %d\n", kChurnPairs);
}

/* Blocks in a receive through the loader on descriptor (intptr_t)arg; prints what came. */
static void *BlockedTrappedReceive(void *arg) {
  char buffer[8];
  int descv[1];
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, 1, 0};
  const int n = imc_recvmsg((int)(intptr_t)arg, &header, 0);
  printf("blocked receive: %.*s\n", n > 0 ? n : 0, buffer);
  return NULL;
}

/* A receive through the loader waits on a socket while dup2 puts another pair at its number;
 * the old socket lives on at other numbers and then gets a message, which ends that receive
 * successfully. Its number now names the new pair: the loader must not place the old socket
 * there. A message sent directly on the new pair must then arrive at that number, and a
 * direct receive there must take it. */
static void StalePlacement(void) {
  int old_pair[2];
  PlacedPair(old_pair);
  const int kept = nacl_dup(old_pair[0]);      /* The old pair lives on here ... */
  const int kept_peer = nacl_dup(old_pair[1]); /* ... and here. */
  if (kept < 0 || kept_peer < 0) Fail("nacl_dup");
  pthread_t thread;
  if (pthread_create(&thread, NULL, BlockedTrappedReceive, (void *)(intptr_t)old_pair[1]) != 0) {
    Fail("thread");
  }
  usleep(200 * 1000); /* Long enough to block in the loader. */
  int new_pair[2];
  PlacedPair(new_pair);
  if (dup2(new_pair[0], old_pair[0]) != old_pair[0] ||
      dup2(new_pair[1], old_pair[1]) != old_pair[1]) {
    Fail("dup2");
  }
  if (Send(kept, "old", 3) != 3) Fail("send on the old pair");
  pthread_join(thread, NULL);
  if (Send(old_pair[0], "new", 3) != 3) Fail("send on the new pair");
  char buffer[8];
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  const int n = imc_recvmsg(old_pair[1], &header, NACL_ABI_IMC_NONBLOCK);
  if (n < 0) {
    printf("direct receive: %s\n", ErrnoName(errno));
  } else {
    printf("direct receive: %.*s\n", n, buffer);
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    printf("usage: direct_path CASE [ARG]\n");
    return 2;
  }
  const char *name = argv[1];
  const char *arg = argc > 2 ? argv[2] : "";
  printf("direct_path: %s\n", name);
  Ready();

  if (strcmp(name, "echo") == 0) {
    Echo(atoi(arg));
  } else if (strcmp(name, "receive") == 0) {
    ReceiveAndReport(atoi(arg));
  } else if (strcmp(name, "pid") == 0) {
    /* The test counts this process's fds around what it sends. */
    char line[32];
    int n = snprintf(line, sizeof(line), "%d", (int)getpid());
    Send(kSocket, line, (size_t)n);
    ReceiveAndReport(atoi(arg));
    char bye[8];
    Receive(kSocket, bye, sizeof(bye), NULL); /* The test counted; the module may end. */
  } else if (strcmp(name, "raw_sendmsg") == 0) {
    RawSendmsgRights();
  } else if (strcmp(name, "raw_recvmsg") == 0) {
    RawRecvmsgControl();
  } else if (strcmp(name, "sendto_flags") == 0) {
    /* arg: the flags, in hex; a non-zero address when it starts with "addr". */
    const int with_address = strncmp(arg, "addr", 4) == 0;
    long flags = strtol(with_address ? arg + 4 : arg, NULL, 16);
    char packet[16] = {2};
    Raw("sendto", RawSyscall(SYS_sendto, kSocket, (long)packet, sizeof(packet), flags,
                             with_address ? (long)packet : 0, with_address ? 16 : 0));
  } else if (strcmp(name, "recvfrom_flags") == 0) {
    const int with_address = strncmp(arg, "addr", 4) == 0;
    long flags = strtol(with_address ? arg + 4 : arg, NULL, 16);
    char packet[64];
    socklen_t length = sizeof(packet);
    Raw("recvfrom", RawSyscall(SYS_recvfrom, kSocket, (long)packet, sizeof(packet), flags,
                               with_address ? (long)packet : 0, with_address ? (long)&length : 0));
  } else if (strcmp(name, "lie") == 0) {
    /* Packets with headers that lie, sent directly to the test; then one honest message. */
    struct {
      uint8_t version, kind, count, flags;
      uint32_t bytes;
      uint8_t tags[8];
      char data[8];
    } packet;
    const struct {
      uint8_t version, kind, count, flags;
      uint32_t bytes;
      size_t size;
    } lies[] = {
        {1, 0, 0, 0, 8, 24},    /* An old version. */
        {2, 1, 0, 0, 0, 16},    /* An acceptance acknowledgement. */
        {2, 0, 3, 0, 8, 24},    /* Three descriptors, and no fds. */
        {2, 0, 0, 0, 100, 24},  /* More bytes than the packet has. */
        {2, 0, 0, 0, 2, 24},    /* Fewer. */
        {2, 0, 0, 0x80, 8, 24}, /* An unknown flag. */
        {2, 9, 0, 0, 8, 24},    /* An unknown kind. */
        {2, 0, 0, 0, 0, 3},     /* Shorter than a header. */
        {2, 0, 9, 0, 8, 24},    /* More descriptors than a message can carry. */
    };
    for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); ++i) {
      memset(&packet, 0, sizeof(packet));
      packet.version = lies[i].version;
      packet.kind = lies[i].kind;
      packet.count = lies[i].count;
      packet.flags = lies[i].flags;
      packet.bytes = lies[i].bytes;
      packet.tags[0] = lies[i].count > 0 ? 4 : 0;
      memcpy(packet.data, "liedlied", 8);
      Raw("lie",
          RawSyscall(SYS_sendto, kSocket, (long)&packet, (long)lies[i].size, MSG_NOSIGNAL, 0, 0));
    }
    if (Send(kSocket, "honest", 6) != 6) Fail("honest send");
    printf("sent\n");
  } else if (strcmp(name, "not_a_socket") == 0) {
    /* Numbers that hold no placed socket: shared memory (mapped: its memfd is placed), the
     * placeholder a closed shared memory leaves (which the bound socket then takes), a
     * socket address, nothing at all. */
    int memory = imc_mem_obj_create(65536);
    void *mapped = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, memory, 0);
    if (mapped == MAP_FAILED) Fail("mmap");
    char packet[16] = {2};
    Raw("sendto shared memory",
        RawSyscall(SYS_sendto, memory, (long)packet, 16, MSG_NOSIGNAL, 0, 0));
    Raw("recvfrom shared memory",
        RawSyscall(SYS_recvfrom, memory, (long)packet, 16, MSG_DONTWAIT, 0, 0));
    nacl_close(memory);
    Raw("sendto placeholder", RawSyscall(SYS_sendto, memory, (long)packet, 16, MSG_NOSIGNAL, 0, 0));
    EXPECT_ERRNO("imc_sendmsg on a closed number", EBADF, Send(memory, "x", 1));
    int bound[2];
    if (imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
    Raw("sendto bound socket",
        RawSyscall(SYS_sendto, bound[0], (long)packet, 16, MSG_NOSIGNAL, 0, 0));
    Raw("sendto address", RawSyscall(SYS_sendto, bound[1], (long)packet, 16, MSG_NOSIGNAL, 0, 0));
    Raw("sendto stdout", RawSyscall(SYS_sendto, 1, (long)packet, 16, MSG_NOSIGNAL, 0, 0));
    Raw("sendto 900", RawSyscall(SYS_sendto, 900, (long)packet, 16, MSG_NOSIGNAL, 0, 0));
    Raw("sendto 100000", RawSyscall(SYS_sendto, 100000, (long)packet, 16, MSG_NOSIGNAL, 0, 0));
    Raw("recvfrom 900", RawSyscall(SYS_recvfrom, 900, (long)packet, 16, MSG_DONTWAIT, 0, 0));
    /* The IMC calls on them answer as the loader does. */
    EXPECT_ERRNO("imc_sendmsg on a bound socket", EIO, Send(bound[0], "x", 1));
  } else if (strcmp(name, "bad_pointers") == 0) {
    /* After placement, bad pointers still answer EFAULT (the SDK traps rather than fault). */
    char buffer[64];
    void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *read_only = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
    struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
    EXPECT_ERRNO("send header unmapped", EFAULT, imc_sendmsg(kSocket, none, 0));
    EXPECT_ERRNO("recv header unmapped", EFAULT, imc_recvmsg(kSocket, none, 0));
    EXPECT_ERRNO("recv header read-only", EFAULT, imc_recvmsg(kSocket, read_only, 0));
    header.iov = none;
    EXPECT_ERRNO("send iov unmapped", EFAULT, imc_sendmsg(kSocket, &header, 0));
    header.iov = &iov;
    iov.base = none;
    EXPECT_ERRNO("send data unmapped", EFAULT, imc_sendmsg(kSocket, &header, 0));
    header.iov = none;
    EXPECT_ERRNO("recv iov unmapped", EFAULT, imc_recvmsg(kSocket, &header, 0));
    header.iov = &iov;
    iov.base = (char *)none + 4000; /* Straddles into the next page. */
    EXPECT_ERRNO("send data straddling", EFAULT, imc_sendmsg(kSocket, &header, 0));
    iov.base = read_only;
    EXPECT_ERRNO("send from read-only", 0, imc_sendmsg(kSocket, &header, 0));
  } else if (strcmp(name, "nonblocking") == 0) {
    /* O_NONBLOCK after placement: a receive with nothing queued answers EAGAIN at once. */
    char buffer[64];
    if (fcntl(kSocket, F_SETFL, O_NONBLOCK) != 0) Fail("F_SETFL");
    EXPECT_ERRNO("receive nonblocking descriptor", EAGAIN,
                 Receive(kSocket, buffer, sizeof(buffer), NULL));
    if (fcntl(kSocket, F_SETFL, 0) != 0) Fail("F_SETFL");
    struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
    struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
    EXPECT_ERRNO("receive NACL_ABI_IMC_NONBLOCK", EAGAIN,
                 imc_recvmsg(kSocket, &header, NACL_ABI_IMC_NONBLOCK));
    Send(kSocket, "done", 4);
  } else if (strcmp(name, "close_blocked_pair") == 0) {
    /* A pair this module made: closing the end a thread waits on ends the wait (EBADF). */
    int pair[2];
    PlacedPair(pair);
    CloseWhileBlocked(pair[0], arg, -1);
  } else if (strcmp(name, "close_blocked_granted") == 0) {
    /* Descriptor 3 came with -i: the wait goes on until the peer sends (Native Client). */
    CloseWhileBlocked(kSocket, arg, -1);
  } else if (strcmp(name, "stale_placement") == 0) {
    StalePlacement();
  } else if (strcmp(name, "churn") == 0) {
    Churn();
  } else if (strcmp(name, "close_blocked_dup") == 0) {
    /* Two slots, one closed: the other keeps the socket, and the wait goes on. */
    int pair[2];
    PlacedPair(pair);
    if (nacl_dup(pair[0]) < 0) Fail("nacl_dup");
    CloseWhileBlocked(pair[0], "nacl_close", pair[1]);
  } else {
    printf("unknown case\n");
    return 2;
  }
  return 0;
}
