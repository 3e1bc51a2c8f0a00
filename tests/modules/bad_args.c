/* bad_args: hands the loader wild pointers, lengths near 2^64, and messages whose header and
 * iovec another thread rewrites while they are being sent. Every call must fail with an
 * errno (or succeed where the arguments happen to be valid); the loader must never crash.
 * Prints "CASE ..." lines (bad_args_test.cc asserts them) and exits 0.
 *
 * Expects /dev/null as stdin and HostIo descriptor 5 writable (sel_ldr -w 5:D). */
#define _GNU_SOURCE
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kHostOut = 5, kRaceIterations = 10000 };

#define KERNEL ((void *)0xffff800000001000ULL)
#define NON_CANONICAL ((void *)0x0000800000000000ULL)
#define LAST_BYTE ((void *)UINTPTR_MAX)

/* The last bytes of a readable, writable page that is followed by an inaccessible one. */
static char *page_end;

static void MakePages(void) {
  char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) Fail("mmap");
  if (mprotect(pages + 4096, 4096, PROT_NONE) != 0) Fail("mprotect");
  page_end = pages + 4096;
}

static void ConnectedPair(int out[2]) {
  int bound[2];
  if (imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
  out[0] = imc_connect(bound[1]);
  out[1] = imc_accept(bound[0]);
  if (out[0] < 0 || out[1] < 0) Fail("connect/accept");
  close(bound[0]);
  close(bound[1]);
}

static void Drain(int d) {
  char buffer[64];
  int descv[NACL_ABI_IMC_DESC_MAX];
  for (;;) {
    struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
    struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, NACL_ABI_IMC_DESC_MAX, 0};
    if (imc_recvmsg(d, &header, NACL_ABI_IMC_NONBLOCK) < 0) return;
    for (size_t i = 0; i < header.desc_length; ++i) {
      if (descv[i] >= 0) close(descv[i]);
    }
  }
}

static void WildHeaders(int d, int peer) {
  char data[8] = "abcde";
  int minus_one = -1;
  struct NaClAbiNaClImcMsgIoVec iov[2];
  struct NaClAbiNaClImcMsgHdr header;
  /* A header whose last 8 bytes lie past the end of the page. */
  struct NaClAbiNaClImcMsgHdr *straddling =
      (struct NaClAbiNaClImcMsgHdr *)(page_end - sizeof(struct NaClAbiNaClImcMsgHdr) + 8);

  EXPECT_ERRNO("sendmsg_header_null", NACL_ABI_EFAULT, imc_sendmsg(d, NULL, 0));
  EXPECT_ERRNO("sendmsg_header_kernel", NACL_ABI_EFAULT, imc_sendmsg(d, KERNEL, 0));
  EXPECT_ERRNO("sendmsg_header_non_canonical", NACL_ABI_EFAULT, imc_sendmsg(d, NON_CANONICAL, 0));
  EXPECT_ERRNO("sendmsg_header_wraps", NACL_ABI_EFAULT, imc_sendmsg(d, LAST_BYTE, 0));
  EXPECT_ERRNO("sendmsg_header_straddles_page", NACL_ABI_EFAULT, imc_sendmsg(d, straddling, 0));

  header = (struct NaClAbiNaClImcMsgHdr){KERNEL, 1, NULL, 0, 0};
  EXPECT_ERRNO("sendmsg_iov_kernel", NACL_ABI_EFAULT, imc_sendmsg(d, &header, 0));
  header = (struct NaClAbiNaClImcMsgHdr){iov, SIZE_MAX, NULL, 0, 0};
  EXPECT_ERRNO("sendmsg_iov_length_max", NACL_ABI_EINVAL, imc_sendmsg(d, &header, 0));
  header = (struct NaClAbiNaClImcMsgHdr){iov, (size_t)1 << 63, NULL, 0, 0};
  EXPECT_ERRNO("sendmsg_iov_length_2_63", NACL_ABI_EINVAL, imc_sendmsg(d, &header, 0));
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){data, SIZE_MAX};
  header = (struct NaClAbiNaClImcMsgHdr){iov, 1, NULL, 0, 0};
  EXPECT_ERRNO("sendmsg_buffer_length_max", NACL_ABI_EIO, imc_sendmsg(d, &header, 0));
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){data, (size_t)1 << 63};
  iov[1] = (struct NaClAbiNaClImcMsgIoVec){data, (size_t)1 << 63};
  header = (struct NaClAbiNaClImcMsgHdr){iov, 2, NULL, 0, 0};
  EXPECT_ERRNO("sendmsg_buffer_lengths_overflow", NACL_ABI_EIO, imc_sendmsg(d, &header, 0));
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){KERNEL, 10};
  header = (struct NaClAbiNaClImcMsgHdr){iov, 1, NULL, 0, 0};
  EXPECT_ERRNO("sendmsg_buffer_kernel", NACL_ABI_EFAULT, imc_sendmsg(d, &header, 0));
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){LAST_BYTE, 10};
  EXPECT_ERRNO("sendmsg_buffer_wraps", NACL_ABI_EFAULT, imc_sendmsg(d, &header, 0));
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){page_end - 4, 100};
  EXPECT_ERRNO("sendmsg_buffer_straddles_page", NACL_ABI_EFAULT, imc_sendmsg(d, &header, 0));
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){NULL, 0};
  EXPECT_ERRNO("sendmsg_null_empty_buffer", 0, imc_sendmsg(d, &header, 0));
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){data, 5};
  header = (struct NaClAbiNaClImcMsgHdr){iov, 1, KERNEL, 1, 0};
  EXPECT_ERRNO("sendmsg_descv_kernel", NACL_ABI_EFAULT, imc_sendmsg(d, &header, 0));
  header = (struct NaClAbiNaClImcMsgHdr){iov, 1, &minus_one, SIZE_MAX, 0};
  EXPECT_ERRNO("sendmsg_desc_length_max", NACL_ABI_EINVAL, imc_sendmsg(d, &header, 0));
  Drain(peer);

  EXPECT_ERRNO("recvmsg_header_null", NACL_ABI_EFAULT, imc_recvmsg(peer, NULL, 0));
  EXPECT_ERRNO("recvmsg_header_kernel", NACL_ABI_EFAULT, imc_recvmsg(peer, KERNEL, 0));
  EXPECT_ERRNO("recvmsg_header_wraps", NACL_ABI_EFAULT, imc_recvmsg(peer, LAST_BYTE, 0));
  header = (struct NaClAbiNaClImcMsgHdr){iov, SIZE_MAX, NULL, 0, 0};
  EXPECT_ERRNO("recvmsg_iov_length_max", NACL_ABI_EINVAL, imc_recvmsg(peer, &header, 0));
  header = (struct NaClAbiNaClImcMsgHdr){iov, 1, NULL, SIZE_MAX, 0};
  EXPECT_ERRNO("recvmsg_desc_length_max", NACL_ABI_EINVAL, imc_recvmsg(peer, &header, 0));
  header = (struct NaClAbiNaClImcMsgHdr){KERNEL, 1, NULL, 0, 0};
  EXPECT_ERRNO("recvmsg_iov_kernel", NACL_ABI_EFAULT, imc_recvmsg(peer, &header, 0));
  header = (struct NaClAbiNaClImcMsgHdr){iov, 1, KERNEL, 1, 0};
  EXPECT_ERRNO("recvmsg_descv_kernel", NACL_ABI_EFAULT, imc_recvmsg(peer, &header, 0));

  /* With a message queued: a huge length over a small valid buffer is fine for a short
   * message; a kernel buffer is not. */
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){data, 5};
  header = (struct NaClAbiNaClImcMsgHdr){iov, 1, NULL, 0, 0};
  if (imc_sendmsg(d, &header, 0) != 5) Fail("send");
  char small[8];
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){small, SIZE_MAX};
  EXPECT_ERRNO("recvmsg_buffer_length_max", 0, imc_recvmsg(peer, &header, 0));
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){data, 5};
  if (imc_sendmsg(d, &header, 0) != 5) Fail("send");
  iov[0] = (struct NaClAbiNaClImcMsgIoVec){KERNEL, 16};
  EXPECT_ERRNO("recvmsg_buffer_kernel", NACL_ABI_EFAULT, imc_recvmsg(peer, &header, 0));
}

static void WildIo(void) {
  char small[16] = "hello";
  struct stat st;
  struct iovec iov[2];
  EXPECT_ERRNO("nacl_write_kernel", NACL_ABI_EFAULT, nacl_write(kHostOut, KERNEL, 10));
  EXPECT_ERRNO("nacl_write_length_max", NACL_ABI_EFAULT,
               nacl_write(kHostOut, page_end - 16, SIZE_MAX));
  EXPECT_ERRNO("write_length_2_63", NACL_ABI_EFAULT,
               syscall(SYS_write, kHostOut, page_end - 16, (size_t)1 << 63));
  EXPECT_ERRNO("write_wraps", NACL_ABI_EFAULT, syscall(SYS_write, kHostOut, LAST_BYTE, 10));
  EXPECT_ERRNO("nacl_read_kernel", NACL_ABI_EFAULT, nacl_read(0, KERNEL, 10));
  EXPECT_ERRNO("nacl_read_length_max", NACL_ABI_EFAULT, nacl_read(0, page_end - 16, SIZE_MAX));
  EXPECT_ERRNO("read_length_max", NACL_ABI_EFAULT, syscall(SYS_read, 0, page_end - 16, SIZE_MAX));
  EXPECT_ERRNO("readv_iov_kernel", NACL_ABI_EFAULT, syscall(SYS_readv, 0, KERNEL, 1));
  EXPECT_ERRNO("readv_count_max", NACL_ABI_EINVAL, syscall(SYS_readv, 0, iov, SIZE_MAX));
  EXPECT_ERRNO("writev_count_2_32_plus_1", NACL_ABI_EINVAL,
               syscall(SYS_writev, kHostOut, iov, ((size_t)1 << 32) + 1));
  iov[0] = (struct iovec){small, SIZE_MAX};
  EXPECT_ERRNO("writev_length_max", NACL_ABI_EINVAL, syscall(SYS_writev, kHostOut, iov, 1));
  iov[0] = (struct iovec){small, (size_t)1 << 62};
  iov[1] = (struct iovec){small, (size_t)1 << 62};
  EXPECT_ERRNO("writev_lengths_2_63", NACL_ABI_EINVAL, syscall(SYS_writev, kHostOut, iov, 2));
  iov[0] = (struct iovec){KERNEL, 10};
  EXPECT_ERRNO("writev_buffer_kernel", NACL_ABI_EFAULT, syscall(SYS_writev, kHostOut, iov, 1));
  EXPECT_ERRNO("readv_buffer_kernel", NACL_ABI_EFAULT, syscall(SYS_readv, 0, iov, 1));
  iov[0] = (struct iovec){small, 5};
  EXPECT_ERRNO("writev_valid", 0, syscall(SYS_writev, kHostOut, iov, 1));
  EXPECT_ERRNO("fstat_kernel", NACL_ABI_EFAULT, syscall(SYS_fstat, 1, KERNEL));
  EXPECT_ERRNO("nacl_fstat_kernel", NACL_ABI_EFAULT, nacl_fstat(1, KERNEL));
  EXPECT_ERRNO("newfstatat_path_kernel", NACL_ABI_EFAULT,
               syscall(SYS_newfstatat, 1, KERNEL, &st, 0x1000 /* AT_EMPTY_PATH */));
  EXPECT_ERRNO("makeboundsock_kernel", NACL_ABI_EFAULT, imc_makeboundsock(KERNEL));
  EXPECT_ERRNO("socketpair_kernel", NACL_ABI_EFAULT, imc_socketpair(KERNEL));
  EXPECT_ERRNO("nacl_close_2_32_plus_1000", NACL_ABI_EBADF,
               nacl_syscall(NACL_sys_close, ((long)1 << 32) + 1000, 0, 0, 0, 0, 0));

  int memory = imc_mem_obj_create(NACL_ABI_MAP_PAGESIZE);
  if (memory < 0) Fail("imc_mem_obj_create");
  errno = 0;
  void *mapped = mmap(NULL, SIZE_MAX & ~(size_t)0xffff, PROT_READ, MAP_SHARED, memory, 0);
  ReportCase("mmap_length_near_2_64", ErrnoName(NACL_ABI_EINVAL),
             mapped == MAP_FAILED ? ErrnoName(errno) : "ok");
  errno = 0;
  mapped =
      mmap(NULL, NACL_ABI_MAP_PAGESIZE, PROT_READ, MAP_SHARED, memory, (off_t)0x7fffffffffff0000LL);
  ReportCase("mmap_offset_near_2_63", ErrnoName(NACL_ABI_EINVAL),
             mapped == MAP_FAILED ? ErrnoName(errno) : "ok");
  EXPECT_ERRNO("mem_obj_create_2_64_minus_65536", NACL_ABI_ENOMEM,
               imc_mem_obj_create(SIZE_MAX & ~(size_t)0xffff));
  close(memory);
}

/* The message that one thread sends while another rewrites it. */
static struct NaClAbiNaClImcMsgIoVec race_iov[2];
static struct NaClAbiNaClImcMsgHdr race_header;
static struct iovec race_linux_iov[2];
static int race_descv[1] = {-1};
static char race_data[64] = "race";
static atomic_int stop_racing;

static void *Rewrite(void *unused) {
  (void)unused;
  void *const bases[] = {race_data, KERNEL, NULL, LAST_BYTE, page_end - 4};
  const size_t lengths[] = {5, SIZE_MAX, 0, 100, (size_t)1 << 63};
  const size_t iov_lengths[] = {1, 2, 300, SIZE_MAX};
  int *const descvs[] = {race_descv, KERNEL};
  const size_t desc_lengths[] = {0, 1, 9};
  unsigned i = 0;
  while (!atomic_load(&stop_racing)) {
    ++i;
    volatile struct NaClAbiNaClImcMsgIoVec *iov = race_iov;
    volatile struct NaClAbiNaClImcMsgHdr *header = &race_header;
    volatile struct iovec *linux_iov = race_linux_iov;
    iov[i % 2].base = bases[i % 5];
    iov[(i + 1) % 2].length = lengths[(i / 3) % 5];
    header->iov_length = iov_lengths[(i / 7) % 4];
    header->descv = descvs[(i / 11) % 2];
    header->desc_length = desc_lengths[(i / 13) % 3];
    linux_iov[i % 2].iov_base = bases[(i / 5) % 5];
    linux_iov[(i + 1) % 2].iov_len = lengths[(i / 17) % 5];
  }
  return NULL;
}

/* Counts the outcomes of one racing call; returns 0 for an allowed one. */
static int Tally(long result, int error, int counts[5]) {
  if (result >= 0) {
    ++counts[0];
  } else if (error == EFAULT) {
    ++counts[1];
  } else if (error == EINVAL) {
    ++counts[2];
  } else if (error == EIO) {
    ++counts[3];
  } else if (error == EAGAIN) {
    ++counts[4];
  } else {
    printf("unexpected errno %s\n", ErrnoName(error));
    return 1;
  }
  return 0;
}

static void Race(int d, int peer) {
  race_iov[0] = (struct NaClAbiNaClImcMsgIoVec){race_data, 5};
  race_iov[1] = (struct NaClAbiNaClImcMsgIoVec){race_data, 5};
  race_header = (struct NaClAbiNaClImcMsgHdr){race_iov, 1, race_descv, 1, 0};
  race_linux_iov[0] = (struct iovec){race_data, 5};
  race_linux_iov[1] = (struct iovec){race_data, 5};
  pthread_t rewriter;
  if (pthread_create(&rewriter, NULL, Rewrite, NULL) != 0) Fail("pthread_create");
  int send_counts[5] = {0};
  int writev_counts[5] = {0};
  int unexpected = 0;
  for (int i = 0; i < kRaceIterations; ++i) {
    errno = 0;
    long sent = imc_sendmsg(d, &race_header, NACL_ABI_IMC_NONBLOCK);
    unexpected += Tally(sent, errno, send_counts);
    if (sent >= 0) Drain(peer);
    errno = 0;
    long written = syscall(SYS_writev, kHostOut, race_linux_iov, 2);
    unexpected += Tally(written, errno, writev_counts);
  }
  atomic_store(&stop_racing, 1);
  pthread_join(rewriter, NULL);
  printf("race: sendmsg ok=%d EFAULT=%d EINVAL=%d EIO=%d EAGAIN=%d\n", send_counts[0],
         send_counts[1], send_counts[2], send_counts[3], send_counts[4]);
  printf("race: writev ok=%d EFAULT=%d EINVAL=%d\n", writev_counts[0], writev_counts[1],
         writev_counts[2]);
  ReportCase("race_outcomes", "all_allowed", unexpected == 0 ? "all_allowed" : "unexpected");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  MakePages();
  int pair[2];
  ConnectedPair(pair);
  WildHeaders(pair[0], pair[1]);
  WildIo();
  Race(pair[0], pair[1]);
  printf("DONE\n");
  return 0;
}
