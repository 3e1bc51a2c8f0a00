/*
 * The untrusted side of the ABI: each call is the Linux syscall NACL_ABI_SYSCALL_BASE + N,
 * which the loader's seccomp filter hands to the supervisor. A negative result becomes errno
 * and -1.
 *
 * The direct data path (docs/performance.md): imc_sendmsg and imc_recvmsg of a message
 * without descriptors first try the host socket the loader placed at the descriptor's
 * number (after the first trapped call on it), with the module's own sendto and recvfrom
 * and the 16-byte wire header (imc_wire.h). Anything else, and every case the SDK does not
 * fully handle itself, is trapped: the loader's answer is then the one NaCl gives.
 */
#include <errno.h>
#include <linux/futex.h>
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <stdint.h>
#include <string.h>
#include <sys/nacl_syscalls.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "imc_wire.h"

static long Syscall(long number, long a0, long a1, long a2, long a3, long a4, long a5) {
  register long r10 __asm__("r10") = a3;
  register long r8 __asm__("r8") = a4;
  register long r9 __asm__("r9") = a5;
  long result;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "0"(number), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return result;
}

/* A negative result (a negated errno) becomes errno and -1. */
static long Result(long result) {
  if (result < 0 && result > -4096) {
    errno = (int)-result;
    return -1;
  }
  return result;
}

static long Call(int number, long a0, long a1, long a2, long a3, long a4, long a5) {
  return Result(Syscall((long)NACL_ABI_SYSCALL_BASE + number, a0, a1, a2, a3, a4, a5));
}

/* --- The direct data path ------------------------------------------------------------- */

enum {
  kPageSize = 4096,
  /* The most pages one direct call checks; a message spread wider is trapped. */
  kMaxCheckedPages = 8,
  /* The most iovecs and user bytes of a direct message (the buffer is on the stack). */
  kMaxDirectIovecs = 16,
  kMaxDirectBytes = 4096 - (int)sizeof(struct ImcWireHeader),
};

/*
 * The pages of the module's memory one direct call has found mapped, each with bit 0 set if
 * it is also writable. The loader answers EFAULT for memory that is not; the SDK touches
 * memory only after the kernel said it may, and traps otherwise, so that the loader answers.
 * (Memory another thread unmaps after the check faults in the module, as in plain code.)
 */
struct PageChecks {
  uintptr_t pages[kMaxCheckedPages];
  int count;
};

static int PageChecked(const struct PageChecks *checks, uintptr_t page, int write) {
  for (int i = 0; i < checks->count; ++i) {
    if ((checks->pages[i] & ~(uintptr_t)1) == page && (!write || (checks->pages[i] & 1) != 0)) {
      return 1;
    }
  }
  return 0;
}

/*
 * Asks the kernel whether the page of `word` (4-byte aligned) can be read, or written, without
 * touching it ourselves: a futex compare-and-requeue of nobody reads the word (EAGAIN or 0
 * when it can); a wake-op that adds 0 writes it atomically without changing it. Neither wakes
 * or moves a waiter, and neither sleeps. Returns 0 or -EFAULT.
 */
static long ProbePage(uintptr_t word, int write) {
  long r;
  if (write) {
    r = Syscall(SYS_futex, (long)word, FUTEX_WAKE_OP_PRIVATE, 0, 0, (long)word,
                FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0));
  } else {
    r = Syscall(SYS_futex, (long)word, FUTEX_CMP_REQUEUE_PRIVATE, 0, 0, (long)word, 0);
  }
  return r == -EFAULT ? -EFAULT : 0;
}

/* 0 if every page of [p, p + n) can be accessed; otherwise nonzero (the caller traps). */
static int CheckRange(struct PageChecks *checks, uintptr_t p, size_t n, int write) {
  if (n == 0) return 0;
  uintptr_t last;
  if (__builtin_add_overflow(p, n - 1, &last)) return 1;
  const uintptr_t last_page = last & ~(uintptr_t)(kPageSize - 1);
  for (uintptr_t page = p & ~(uintptr_t)(kPageSize - 1);; page += kPageSize) {
    if (!PageChecked(checks, page, write)) {
      if (checks->count == kMaxCheckedPages) return 1;
      const uintptr_t word = (page < p ? p : page) & ~(uintptr_t)3;
      if (ProbePage(word, write) != 0) return 1;
      checks->pages[checks->count++] = page | (write ? 1 : 0);
    }
    if (page == last_page) return 0;
  }
}

/* A direct message's layout, copied once from the module's header (which other threads may
 * change meanwhile). */
struct DirectLayout {
  struct NaClAbiNaClImcMsgHdr header;
  struct NaClAbiNaClImcMsgIoVec iov[kMaxDirectIovecs];
  size_t total;
};

/* One packet of the direct path: the wire header, then the message's bytes. */
union DirectPacket {
  struct ImcWireHeader header;
  char bytes[sizeof(struct ImcWireHeader) + kMaxDirectBytes];
};

/* 0 if the call can go the direct way: no flag but NACL_ABI_IMC_NONBLOCK, no descriptors, few
 * iovecs, few bytes, all of its memory accessible (`write`: the header and buffers are
 * written, as by a receive). */
static int CopyInDirectLayout(const struct NaClAbiNaClImcMsgHdr *nmhp, int flags, int write,
                              struct DirectLayout *layout) {
  if ((flags & ~NACL_ABI_IMC_NONBLOCK) != 0) return 1;
  struct PageChecks checks;
  checks.count = 0;
  if (CheckRange(&checks, (uintptr_t)nmhp, sizeof(*nmhp), write) != 0) return 1;
  layout->header = *(const volatile struct NaClAbiNaClImcMsgHdr *)nmhp;
  const struct NaClAbiNaClImcMsgHdr *header = &layout->header;
  if (header->desc_length != 0 || header->iov_length > kMaxDirectIovecs) return 1;
  const size_t iov_bytes = header->iov_length * sizeof(header->iov[0]);
  if (CheckRange(&checks, (uintptr_t)header->iov, iov_bytes, 0) != 0) return 1;
  memcpy(layout->iov, header->iov, iov_bytes);
  layout->total = 0;
  for (size_t i = 0; i < header->iov_length; ++i) {
    const size_t length = layout->iov[i].length;
    if (length > (size_t)kMaxDirectBytes - layout->total) return 1;
    layout->total += length;
    if (CheckRange(&checks, (uintptr_t)layout->iov[i].base, length, write) != 0) return 1;
  }
  return 0;
}

/* The socket flag of a call the module made nonblocking. */
static long DontWait(int flags) { return (flags & NACL_ABI_IMC_NONBLOCK) != 0 ? MSG_DONTWAIT : 0; }

/* Sends a message without descriptors on the socket at `d`, if it is there. Returns 1 with
 * the call's result in `*result`, or 0 if the call must be trapped (nothing was sent). */
static int SendDirect(int d, const struct NaClAbiNaClImcMsgHdr *nmhp, int flags, long *result) {
  struct DirectLayout layout;
  if (CopyInDirectLayout(nmhp, flags, 0, &layout) != 0) return 0;
  union DirectPacket packet;
  memset(&packet.header, 0, sizeof(packet.header));
  packet.header.version = IMC_WIRE_VERSION;
  packet.header.packet_kind = IMC_WIRE_KIND_MESSAGE;
  packet.header.byte_count = (uint32_t)layout.total;
  size_t size = sizeof(packet.header);
  for (size_t i = 0; i < layout.header.iov_length; ++i) {
    memcpy(packet.bytes + size, layout.iov[i].base, layout.iov[i].length);
    size += layout.iov[i].length;
  }
  const long sent =
      Syscall(SYS_sendto, d, (long)packet.bytes, (long)size, MSG_NOSIGNAL | DontWait(flags), 0, 0);
  if (sent >= 0) {
    *result = (long)layout.total;
    return 1;
  }
  if (sent == -EAGAIN && (flags & NACL_ABI_IMC_NONBLOCK) != 0) {
    *result = -NACL_ABI_EAGAIN;
    return 1;
  }
  /* Not a placed socket (EBADF, ENOTSOCK), a closed peer, a signal: nothing was sent. */
  return 0;
}

/* Receives a message on the socket at `d` into a caller that takes no descriptors, if the
 * socket is there. Returns 1 with the call's result in `*result`, or 0 if the call must be
 * trapped (nothing was consumed). */
static int ReceiveDirect(int d, struct NaClAbiNaClImcMsgHdr *nmhp, int flags, long *result) {
  struct DirectLayout layout;
  if (CopyInDirectLayout(nmhp, flags, 1, &layout) != 0) return 0;
  union DirectPacket packet;
  const long receive_flags = MSG_TRUNC | DontWait(flags);
  const size_t room = sizeof(packet.header) + layout.total;
  for (;;) {
    /* MSG_TRUNC: the packet's real size, however much of it fit. */
    const long size = Syscall(SYS_recvfrom, d, (long)packet.bytes, (long)room, receive_flags, 0, 0);
    if (size == -EAGAIN && (flags & NACL_ABI_IMC_NONBLOCK) != 0) {
      *result = -NACL_ABI_EAGAIN;
      return 1;
    }
    /* Not a placed socket, a signal (nothing consumed), or end of stream (which the loader
     * tells apart: a closed peer, a dropped request). */
    if (size <= 0) return 0;
    /* From here on a packet is consumed. Any fds it carried were closed by the kernel. */
    const struct ImcWireHeader *header = &packet.header;
    if ((size_t)size < sizeof(*header) || header->version != IMC_WIRE_VERSION ||
        (header->flags & ~IMC_WIRE_KNOWN_FLAGS) != 0 ||
        header->descriptor_count > IMC_WIRE_MAX_DESCRIPTORS ||
        (size_t)size - sizeof(*header) != header->byte_count) {
      *result = -NACL_ABI_EIO; /* A malformed packet, as the loader answers (EPROTO). */
      return 1;
    }
    if (header->packet_kind == IMC_WIRE_KIND_ACCEPT_ACK && header->byte_count == 0 &&
        header->descriptor_count == 0) {
      continue; /* The acceptance protocol's; never the caller's. */
    }
    if (header->packet_kind != IMC_WIRE_KIND_MESSAGE) {
      *result = -NACL_ABI_EIO;
      return 1;
    }
    const size_t bytes = header->byte_count < layout.total ? header->byte_count : layout.total;
    const char *data = packet.bytes + sizeof(*header);
    size_t copied = 0;
    for (size_t i = 0; i < layout.header.iov_length && copied < bytes; ++i) {
      const size_t left = bytes - copied;
      const size_t part = layout.iov[i].length < left ? layout.iov[i].length : left;
      memcpy(layout.iov[i].base, data + copied, part);
      copied += part;
    }
    int out_flags = 0;
    if (header->byte_count > layout.total) out_flags |= NACL_ABI_RECVMSG_DATA_TRUNCATED;
    if (header->descriptor_count > 0) out_flags |= NACL_ABI_RECVMSG_DESC_TRUNCATED;
    nmhp->desc_length = 0;
    nmhp->flags = out_flags;
    *result = (long)bytes;
    return 1;
  }
}

long nacl_syscall(int number, long a0, long a1, long a2, long a3, long a4, long a5) {
  return Call(number, a0, a1, a2, a3, a4, a5);
}

int imc_makeboundsock(int sock_and_addr[2]) {
  return (int)Call(NACL_sys_imc_makeboundsock, (long)sock_and_addr, 0, 0, 0, 0, 0);
}

int imc_accept(int d) { return (int)Call(NACL_sys_imc_accept, d, 0, 0, 0, 0, 0); }

int imc_connect(int d) { return (int)Call(NACL_sys_imc_connect, d, 0, 0, 0, 0, 0); }

int imc_sendmsg(int d, const struct NaClAbiNaClImcMsgHdr *nmhp, int flags) {
  long result;
  if (SendDirect(d, nmhp, flags, &result)) return (int)Result(result);
  return (int)Call(NACL_sys_imc_sendmsg, d, (long)nmhp, flags, 0, 0, 0);
}

int imc_recvmsg(int d, struct NaClAbiNaClImcMsgHdr *nmhp, int flags) {
  long result;
  if (ReceiveDirect(d, nmhp, flags, &result)) return (int)Result(result);
  return (int)Call(NACL_sys_imc_recvmsg, d, (long)nmhp, flags, 0, 0, 0);
}

int imc_mem_obj_create(size_t nbytes) {
  return (int)Call(NACL_sys_imc_mem_obj_create, (long)nbytes, 0, 0, 0, 0, 0);
}

int imc_socketpair(int sock_pair[2]) {
  return (int)Call(NACL_sys_imc_socketpair, (long)sock_pair, 0, 0, 0, 0, 0);
}

int nacl_null(void) { return (int)Call(NACL_sys_null, 0, 0, 0, 0, 0, 0); }
void null_syscall(void) { Call(NACL_sys_null, 0, 0, 0, 0, 0, 0); }
int nacl_dup(int d) { return (int)Call(NACL_sys_dup, d, 0, 0, 0, 0, 0); }
int nacl_dup2(int d, int new_d) { return (int)Call(NACL_sys_dup2, d, new_d, 0, 0, 0, 0); }
int nacl_close(int d) { return (int)Call(NACL_sys_close, d, 0, 0, 0, 0, 0); }

ssize_t nacl_read(int d, void *buf, size_t count) {
  return Call(NACL_sys_read, d, (long)buf, (long)count, 0, 0, 0);
}

ssize_t nacl_write(int d, const void *buf, size_t count) {
  return Call(NACL_sys_write, d, (long)buf, (long)count, 0, 0, 0);
}

int nacl_fstat(int d, struct nacl_abi_stat *st) {
  return (int)Call(NACL_sys_fstat, d, (long)st, 0, 0, 0, 0);
}

int nacl_getpid(void) { return (int)Call(NACL_sys_getpid, 0, 0, 0, 0, 0, 0); }

void nacl_exit(int status) {
  Call(NACL_sys_exit, status, 0, 0, 0, 0, 0);
  for (;;) {
    /* The loader ends the module; nothing returns here. */
  }
}
