/* abi_errors: every row of ABI.md's error table, from inside the sandbox. Prints one
 * "CASE <name> expected=<E> actual=<A>" line per case (abi_errors_test.cc holds the
 * expectations it asserts) and exits 0 once all ran. Run with /dev/null as stdin. */
#define _GNU_SOURCE
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kUnopened = 1000 };

/* A page the module may not read, and one it may only read. */
static void *no_access;
static void *read_only;

static void MakeBadPages(void) {
  no_access = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  read_only = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (no_access == MAP_FAILED || read_only == MAP_FAILED) Fail("mmap");
}

/* A connected pair of ConnectedSockets: out[0] from connect, out[1] from accept. */
static void ConnectedPair(int out[2]) {
  int bound[2];
  if (imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
  out[0] = imc_connect(bound[1]);
  if (out[0] < 0) Fail("imc_connect");
  out[1] = imc_accept(bound[0]);
  if (out[1] < 0) Fail("imc_accept");
  close(bound[0]);
  close(bound[1]);
}

static int Send(int d, const void *data, size_t size, int *descv, size_t desc_length, int flags) {
  struct NaClAbiNaClImcMsgIoVec iov = {(void *)data, size};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, desc_length, 0};
  return imc_sendmsg(d, &header, flags);
}

static int Receive(int d, void *buffer, size_t size, int flags, struct NaClAbiNaClImcMsgHdr *header,
                   int *descv, size_t desc_length) {
  static struct NaClAbiNaClImcMsgIoVec iov;
  iov.base = buffer;
  iov.length = size;
  header->iov = &iov;
  header->iov_length = 1;
  header->descv = descv;
  header->desc_length = desc_length;
  header->flags = 0;
  return imc_recvmsg(d, header, flags);
}

/* How many of descriptors 0..127 are open. */
static int CountOpen(void) {
  int open_count = 0;
  for (int d = 0; d < 128; ++d) {
    struct nacl_abi_stat st;
    if (nacl_fstat(d, &st) == 0) ++open_count;
  }
  return open_count;
}

static void UnopenedDescriptors(void) {
  char buffer[16];
  struct nacl_abi_stat st;
  struct stat linux_st;
  struct NaClAbiNaClImcMsgHdr header = {NULL, 0, NULL, 0, 0};
  EXPECT_ERRNO("accept_unopened", NACL_ABI_EBADF, imc_accept(kUnopened));
  EXPECT_ERRNO("accept_negative", NACL_ABI_EBADF, imc_accept(-1));
  EXPECT_ERRNO("connect_unopened", NACL_ABI_EBADF, imc_connect(kUnopened));
  EXPECT_ERRNO("sendmsg_unopened", NACL_ABI_EBADF, imc_sendmsg(kUnopened, &header, 0));
  EXPECT_ERRNO("recvmsg_unopened", NACL_ABI_EBADF, imc_recvmsg(kUnopened, &header, 0));
  EXPECT_ERRNO("read_unopened", NACL_ABI_EBADF, nacl_read(kUnopened, buffer, 1));
  EXPECT_ERRNO("write_unopened", NACL_ABI_EBADF, nacl_write(kUnopened, "x", 1));
  EXPECT_ERRNO("fstat_unopened", NACL_ABI_EBADF, nacl_fstat(kUnopened, &st));
  EXPECT_ERRNO("dup_unopened", NACL_ABI_EBADF, nacl_dup(kUnopened));
  EXPECT_ERRNO("dup2_unopened", NACL_ABI_EBADF, nacl_dup2(kUnopened, 50));
  EXPECT_ERRNO("close_unopened", NACL_ABI_EBADF, nacl_close(kUnopened));
  EXPECT_ERRNO("libc_read_unopened", NACL_ABI_EBADF, read(kUnopened, buffer, 1));
  EXPECT_ERRNO("libc_write_unopened", NACL_ABI_EBADF, write(kUnopened, "x", 1));
  EXPECT_ERRNO("libc_fstat_unopened", NACL_ABI_EBADF, fstat(kUnopened, &linux_st));
  EXPECT_ERRNO("libc_close_unopened", NACL_ABI_EBADF, close(kUnopened));
  errno = 0;
  void *mapped = mmap(NULL, 65536, PROT_READ, MAP_SHARED, kUnopened, 0);
  ReportCase("mmap_unopened", ErrnoName(NACL_ABI_EBADF),
             mapped == MAP_FAILED ? ErrnoName(errno) : "ok");
}

static void WrongDescriptorTypes(void) {
  int bound[2];
  int pair[2];
  int data_only[2];
  char buffer[16];
  if (imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
  ConnectedPair(pair);
  if (imc_socketpair(data_only) != 0) Fail("imc_socketpair");
  EXPECT_ERRNO("accept_on_socket_address", NACL_ABI_EINVAL, imc_accept(bound[1]));
  EXPECT_ERRNO("accept_on_connected_socket", NACL_ABI_EINVAL, imc_accept(pair[0]));
  EXPECT_ERRNO("accept_on_host_io", NACL_ABI_EINVAL, imc_accept(1));
  EXPECT_ERRNO("connect_on_bound_socket", NACL_ABI_EINVAL, imc_connect(bound[0]));
  EXPECT_ERRNO("connect_on_connected_socket", NACL_ABI_EINVAL, imc_connect(pair[1]));
  EXPECT_ERRNO("read_on_connected_socket", NACL_ABI_EINVAL, nacl_read(pair[0], buffer, 1));
  EXPECT_ERRNO("write_on_connected_socket", NACL_ABI_EINVAL, nacl_write(pair[0], "x", 1));
  EXPECT_ERRNO("libc_read_on_connected_socket", NACL_ABI_EINVAL, read(pair[1], buffer, 1));
  EXPECT_ERRNO("libc_write_on_connected_socket", NACL_ABI_EINVAL, write(pair[1], "x", 1));
  EXPECT_ERRNO("read_on_data_only_socket", NACL_ABI_EINVAL, nacl_read(data_only[0], buffer, 1));
  EXPECT_ERRNO("write_on_data_only_socket", NACL_ABI_EINVAL, nacl_write(data_only[0], "x", 1));
  EXPECT_ERRNO("read_on_bound_socket", NACL_ABI_EINVAL, nacl_read(bound[0], buffer, 1));
  EXPECT_ERRNO("write_on_socket_address", NACL_ABI_EINVAL, nacl_write(bound[1], "x", 1));
  /* sendmsg on a descriptor that is not a socket: EIO, as NaCl (which turns every failure of
   * the descriptor's send into EIO); recvmsg on one: EINVAL, as NaCl. */
  int memory = imc_mem_obj_create(NACL_ABI_MAP_PAGESIZE);
  if (memory < 0) Fail("imc_mem_obj_create");
  EXPECT_ERRNO("sendmsg_on_bound_socket", NACL_ABI_EIO, Send(bound[0], "x", 1, NULL, 0, 0));
  EXPECT_ERRNO("sendmsg_on_socket_address", NACL_ABI_EIO, Send(bound[1], "x", 1, NULL, 0, 0));
  EXPECT_ERRNO("sendmsg_on_shared_memory", NACL_ABI_EIO, Send(memory, "x", 1, NULL, 0, 0));
  EXPECT_ERRNO("sendmsg_on_stdout", NACL_ABI_EIO, Send(1, "x", 1, NULL, 0, 0));
  EXPECT_ERRNO("sendmsg_on_stdout_with_descriptor", NACL_ABI_EIO,
               Send(1, "x", 1, &data_only[0], 1, 0));
  struct NaClAbiNaClImcMsgHdr header;
  EXPECT_ERRNO("recvmsg_on_bound_socket", NACL_ABI_EINVAL,
               Receive(bound[0], buffer, sizeof(buffer), 0, &header, NULL, 0));
  EXPECT_ERRNO("recvmsg_on_shared_memory", NACL_ABI_EINVAL,
               Receive(memory, buffer, sizeof(buffer), 0, &header, NULL, 0));
  close(memory);
  close(bound[0]);
  close(bound[1]);
  close(pair[0]);
  close(pair[1]);
  close(data_only[0]);
  close(data_only[1]);
}

static void UnreadableMemory(void) {
  int pair[2];
  char buffer[16];
  ConnectedPair(pair);
  struct NaClAbiNaClImcMsgIoVec iov = {"x", 1};
  struct NaClAbiNaClImcMsgIoVec bad_buffer = {no_access, 10};
  struct NaClAbiNaClImcMsgHdr header;

  EXPECT_ERRNO("sendmsg_header_null", NACL_ABI_EFAULT, imc_sendmsg(pair[0], NULL, 0));
  EXPECT_ERRNO("sendmsg_header_unreadable", NACL_ABI_EFAULT,
               imc_sendmsg(pair[0], (struct NaClAbiNaClImcMsgHdr *)no_access, 0));
  header = (struct NaClAbiNaClImcMsgHdr){(struct NaClAbiNaClImcMsgIoVec *)no_access, 1, NULL, 0, 0};
  EXPECT_ERRNO("sendmsg_iov_unreadable", NACL_ABI_EFAULT, imc_sendmsg(pair[0], &header, 0));
  header = (struct NaClAbiNaClImcMsgHdr){&bad_buffer, 1, NULL, 0, 0};
  EXPECT_ERRNO("sendmsg_iov_buffer_unreadable", NACL_ABI_EFAULT, imc_sendmsg(pair[0], &header, 0));
  header = (struct NaClAbiNaClImcMsgHdr){&iov, 1, (int *)no_access, 1, 0};
  EXPECT_ERRNO("sendmsg_descv_unreadable", NACL_ABI_EFAULT, imc_sendmsg(pair[0], &header, 0));

  EXPECT_ERRNO("recvmsg_header_null", NACL_ABI_EFAULT,
               imc_recvmsg(pair[1], NULL, NACL_ABI_IMC_NONBLOCK));
  EXPECT_ERRNO(
      "recvmsg_header_unreadable", NACL_ABI_EFAULT,
      imc_recvmsg(pair[1], (struct NaClAbiNaClImcMsgHdr *)no_access, NACL_ABI_IMC_NONBLOCK));
  /* A header the module can read but the loader cannot write back. */
  struct NaClAbiNaClImcMsgHdr *fixed_header =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (fixed_header == MAP_FAILED) Fail("mmap");
  static struct NaClAbiNaClImcMsgIoVec receive_iov = {NULL, 0};
  receive_iov.base = buffer;
  receive_iov.length = sizeof(buffer);
  *fixed_header = (struct NaClAbiNaClImcMsgHdr){&receive_iov, 1, NULL, 0, 0};
  if (mprotect(fixed_header, 4096, PROT_READ) != 0) Fail("mprotect");
  EXPECT_ERRNO("recvmsg_header_unwritable", NACL_ABI_EFAULT,
               imc_recvmsg(pair[1], fixed_header, NACL_ABI_IMC_NONBLOCK));
  header = (struct NaClAbiNaClImcMsgHdr){(struct NaClAbiNaClImcMsgIoVec *)no_access, 1, NULL, 0, 0};
  EXPECT_ERRNO("recvmsg_iov_unreadable", NACL_ABI_EFAULT,
               imc_recvmsg(pair[1], &header, NACL_ABI_IMC_NONBLOCK));
  int *fixed_descv = (int *)read_only;
  header = (struct NaClAbiNaClImcMsgHdr){&receive_iov, 1, fixed_descv, 1, 0};
  EXPECT_ERRNO("recvmsg_descv_unwritable", NACL_ABI_EFAULT,
               imc_recvmsg(pair[1], &header, NACL_ABI_IMC_NONBLOCK));
  if (Send(pair[0], "lost", 4, NULL, 0, 0) != 4) Fail("send");
  struct NaClAbiNaClImcMsgIoVec unwritable = {read_only, 100};
  header = (struct NaClAbiNaClImcMsgHdr){&unwritable, 1, NULL, 0, 0};
  EXPECT_ERRNO("recvmsg_iov_buffer_unwritable", NACL_ABI_EFAULT, imc_recvmsg(pair[1], &header, 0));

  struct nacl_abi_stat st;
  (void)st;
  EXPECT_ERRNO("read_buffer_unwritable", NACL_ABI_EFAULT, nacl_read(0, read_only, 10));
  EXPECT_ERRNO("write_buffer_unreadable", NACL_ABI_EFAULT, nacl_write(1, no_access, 10));
  EXPECT_ERRNO("libc_write_buffer_unreadable", NACL_ABI_EFAULT, write(1, no_access, 10));
  EXPECT_ERRNO("fstat_buffer_unwritable", NACL_ABI_EFAULT,
               nacl_fstat(1, (struct nacl_abi_stat *)read_only));
  const int before = CountOpen();
  EXPECT_ERRNO("makeboundsock_out_unwritable", NACL_ABI_EFAULT,
               imc_makeboundsock((int *)read_only));
  EXPECT_ERRNO("socketpair_out_unwritable", NACL_ABI_EFAULT, imc_socketpair((int *)read_only));
  char leaked[32];
  snprintf(leaked, sizeof(leaked), "%d", CountOpen() - before);
  ReportCase("descriptors_left_by_failed_pairs", "0", leaked);
  munmap(fixed_header, 4096);
  close(pair[0]);
  close(pair[1]);
}

static void Limits(void) {
  int pair[2];
  ConnectedPair(pair);
  static char bytes[NACL_ABI_IMC_USER_BYTES_MAX + 1];
  static struct NaClAbiNaClImcMsgIoVec iov[NACL_ABI_IMC_IOVEC_MAX + 1];
  for (int i = 0; i <= NACL_ABI_IMC_IOVEC_MAX; ++i)
    iov[i] = (struct NaClAbiNaClImcMsgIoVec){&bytes[i], 1};
  int descv[NACL_ABI_IMC_DESC_MAX + 1];
  for (int i = 0; i <= NACL_ABI_IMC_DESC_MAX; ++i) descv[i] = -1;
  struct NaClAbiNaClImcMsgHdr header;

  header = (struct NaClAbiNaClImcMsgHdr){iov, NACL_ABI_IMC_IOVEC_MAX + 1, NULL, 0, 0};
  EXPECT_ERRNO("sendmsg_iov_length_257", NACL_ABI_EINVAL, imc_sendmsg(pair[0], &header, 0));
  EXPECT_ERRNO("recvmsg_iov_length_257", NACL_ABI_EINVAL,
               imc_recvmsg(pair[1], &header, NACL_ABI_IMC_NONBLOCK));
  header = (struct NaClAbiNaClImcMsgHdr){iov, 1, descv, NACL_ABI_IMC_DESC_MAX + 1, 0};
  EXPECT_ERRNO("sendmsg_desc_length_9", NACL_ABI_EINVAL, imc_sendmsg(pair[0], &header, 0));
  EXPECT_ERRNO("recvmsg_desc_length_9", NACL_ABI_EINVAL,
               imc_recvmsg(pair[1], &header, NACL_ABI_IMC_NONBLOCK));
  /* At the limits, both work. */
  header =
      (struct NaClAbiNaClImcMsgHdr){iov, NACL_ABI_IMC_IOVEC_MAX, descv, NACL_ABI_IMC_DESC_MAX, 0};
  EXPECT_ERRNO("sendmsg_at_limits", 0, imc_sendmsg(pair[0], &header, 0));
  EXPECT_ERRNO("recvmsg_at_limits", 0, imc_recvmsg(pair[1], &header, 0));

  EXPECT_ERRNO("sendmsg_128k_bytes", 0,
               Send(pair[0], bytes, NACL_ABI_IMC_USER_BYTES_MAX, NULL, 0, 0));
  EXPECT_ERRNO("sendmsg_128k_plus_1_bytes", NACL_ABI_EIO,
               Send(pair[0], bytes, NACL_ABI_IMC_USER_BYTES_MAX + 1, NULL, 0, 0));
  close(pair[0]);
  close(pair[1]);
}

static void BadDescriptorsInMessages(void) {
  int pair[2];
  int bound[2];
  int data_only[2];
  ConnectedPair(pair);
  if (imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
  if (imc_socketpair(data_only) != 0) Fail("imc_socketpair");
  int d;
  d = 1234;
  EXPECT_ERRNO("sendmsg_descv_1234", NACL_ABI_EBADF, Send(pair[0], "x", 1, &d, 1, 0));
  d = -2;
  EXPECT_ERRNO("sendmsg_descv_minus_2", NACL_ABI_EBADF, Send(pair[0], "x", 1, &d, 1, 0));
  d = -1;
  EXPECT_ERRNO("sendmsg_descv_minus_1", 0, Send(pair[0], "x", 1, &d, 1, 0));
  d = bound[0];
  EXPECT_ERRNO("send_bound_socket", NACL_ABI_EIO, Send(pair[0], "x", 1, &d, 1, 0));
  d = pair[1];
  EXPECT_ERRNO("send_connected_socket", NACL_ABI_EIO, Send(pair[0], "x", 1, &d, 1, 0));
  d = bound[1];
  EXPECT_ERRNO("send_descriptor_over_data_only_socket", NACL_ABI_EIO,
               Send(data_only[0], "x", 1, &d, 1, 0));
  EXPECT_ERRNO("send_bytes_over_data_only_socket", 0, Send(data_only[0], "x", 1, NULL, 0, 0));

  /* The -1 sent above arrives as -1. */
  char buffer[16];
  int received[2] = {7, 7};
  struct NaClAbiNaClImcMsgHdr header;
  if (Receive(pair[1], buffer, sizeof(buffer), 0, &header, received, 2) != 1) Fail("receive");
  char actual[64];
  snprintf(actual, sizeof(actual), "desc_length=%zu,descv[0]=%d", header.desc_length, received[0]);
  ReportCase("invalid_marker_arrives", "desc_length=1,descv[0]=-1", actual);
  close(pair[0]);
  close(pair[1]);
  close(bound[0]);
  close(bound[1]);
  close(data_only[0]);
  close(data_only[1]);
}

static atomic_int accept_result = -2;
static int in_flight_bound;

static void *AcceptThread(void *unused) {
  (void)unused;
  int connection = imc_accept(in_flight_bound);
  accept_result = connection;
  return NULL;
}

static void ClosedEnds(void) {
  int bound[2];
  if (imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
  close(bound[0]);
  EXPECT_ERRNO("connect_after_bound_socket_closed", NACL_ABI_EIO, imc_connect(bound[1]));
  close(bound[1]);

  if (imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
  int copy = nacl_dup(bound[1]);
  close(bound[1]);
  close(copy);
  EXPECT_ERRNO("accept_after_addresses_closed", NACL_ABI_EIO, imc_accept(bound[0]));
  close(bound[0]);

  /* A copy of the address in flight keeps accept waiting; once it arrives, is used and
   * closed, accept fails. */
  int pair[2];
  ConnectedPair(pair);
  if (imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
  in_flight_bound = bound[0];
  if (Send(pair[0], "a", 1, &bound[1], 1, 0) != 1) Fail("send address");
  close(bound[1]);
  pthread_t thread;
  if (pthread_create(&thread, NULL, AcceptThread, NULL) != 0) Fail("pthread_create");
  /* A bounded wait: accept must not fail while the address is in flight. */
  struct timespec wait = {0, 300 * 1000 * 1000};
  nanosleep(&wait, NULL);
  ReportCase("accept_waits_while_address_in_flight", "waiting",
             accept_result == -2 ? "waiting" : "returned");
  char buffer[4];
  int address = -1;
  struct NaClAbiNaClImcMsgHdr header;
  if (Receive(pair[1], buffer, sizeof(buffer), 0, &header, &address, 1) != 1 || address < 0) {
    Fail("receive address");
  }
  int connection = imc_connect(address);
  if (connection < 0) Fail("imc_connect through the received address");
  pthread_join(thread, NULL);
  ReportCase("accept_after_address_arrived", "ok", accept_result >= 0 ? "ok" : "failed");
  close(accept_result);
  close(connection);
  close(address);
  EXPECT_ERRNO("accept_after_last_address_closed", NACL_ABI_EIO, imc_accept(bound[0]));
  close(bound[0]);

  /* The peer closed: messages queued before the close come first, an empty message is not
   * end of stream, then EIO. Sending to it is EIO, never SIGPIPE. */
  if (Send(pair[0], "last", 4, NULL, 0, 0) != 4) Fail("send");
  if (Send(pair[0], "", 0, NULL, 0, 0) != 0) Fail("send empty");
  close(pair[0]);
  char actual[32];
  int n = Receive(pair[1], buffer, sizeof(buffer), 0, &header, NULL, 0);
  snprintf(actual, sizeof(actual), "%d", n);
  ReportCase("recvmsg_queued_before_close", "4", actual);
  n = Receive(pair[1], buffer, sizeof(buffer), 0, &header, NULL, 0);
  snprintf(actual, sizeof(actual), "%d", n);
  ReportCase("recvmsg_empty_message_before_close", "0", actual);
  EXPECT_ERRNO("recvmsg_after_peer_closed", NACL_ABI_EIO,
               Receive(pair[1], buffer, sizeof(buffer), 0, &header, NULL, 0));
  EXPECT_ERRNO("sendmsg_after_peer_closed", NACL_ABI_EIO, Send(pair[1], "x", 1, NULL, 0, 0));
  close(pair[1]);

  int data_only[2];
  if (imc_socketpair(data_only) != 0) Fail("imc_socketpair");
  close(data_only[1]);
  EXPECT_ERRNO("data_only_sendmsg_after_peer_closed", NACL_ABI_EIO,
               Send(data_only[0], "x", 1, NULL, 0, 0));
  EXPECT_ERRNO("data_only_recvmsg_after_peer_closed", NACL_ABI_EIO,
               Receive(data_only[0], buffer, sizeof(buffer), 0, &header, NULL, 0));
  close(data_only[0]);
}

static void WouldBlock(void) {
  int data_only[2];
  char buffer[16];
  struct NaClAbiNaClImcMsgHdr header;
  if (imc_socketpair(data_only) != 0) Fail("imc_socketpair");
  EXPECT_ERRNO(
      "recvmsg_nonblock_nothing_queued", NACL_ABI_EAGAIN,
      Receive(data_only[1], buffer, sizeof(buffer), NACL_ABI_IMC_NONBLOCK, &header, NULL, 0));
  static char chunk[65536];
  int result = 0;
  int sends = 0;
  errno = 0;
  while (sends < 10000) {
    result = Send(data_only[0], chunk, sizeof(chunk), NULL, 0, NACL_ABI_IMC_NONBLOCK);
    if (result < 0) break;
    ++sends;
  }
  ReportCase("sendmsg_nonblock_queue_full", ErrnoName(NACL_ABI_EAGAIN),
             result < 0 ? ErrnoName(errno) : "never blocked");
  close(data_only[0]);
  close(data_only[1]);
}

static void Truncation(void) {
  int pair[2];
  ConnectedPair(pair);
  int bound[2];
  if (imc_makeboundsock(bound) != 0) Fail("imc_makeboundsock");
  int sent[3] = {bound[1], bound[1], bound[1]};
  if (Send(pair[0], "three", 5, sent, 3, 0) != 5) Fail("send three descriptors");
  const int before = CountOpen();
  char buffer[16];
  int received[1] = {-1};
  struct NaClAbiNaClImcMsgHdr header;
  int n = Receive(pair[1], buffer, sizeof(buffer), 0, &header, received, 1);
  char actual[128];
  snprintf(actual, sizeof(actual), "bytes=%d,flags=%d,desc_length=%zu,opened=%d", n, header.flags,
           header.desc_length, CountOpen() - before);
  char expected[128];
  snprintf(expected, sizeof(expected), "bytes=5,flags=%d,desc_length=1,opened=1",
           NACL_ABI_RECVMSG_DESC_TRUNCATED);
  ReportCase("recvmsg_fewer_descriptor_slots", expected, actual);
  close(received[0]);

  if (Send(pair[0], "0123456789", 10, NULL, 0, 0) != 10) Fail("send");
  if (Send(pair[0], "next", 4, NULL, 0, 0) != 4) Fail("send");
  memset(buffer, 0, sizeof(buffer));
  n = Receive(pair[1], buffer, 4, 0, &header, NULL, 0);
  snprintf(actual, sizeof(actual), "bytes=%d,flags=%d,data=%.4s", n, header.flags, buffer);
  snprintf(expected, sizeof(expected), "bytes=4,flags=%d,data=0123",
           NACL_ABI_RECVMSG_DATA_TRUNCATED);
  ReportCase("recvmsg_short_buffer", expected, actual);
  memset(buffer, 0, sizeof(buffer));
  n = Receive(pair[1], buffer, sizeof(buffer), 0, &header, NULL, 0);
  snprintf(actual, sizeof(actual), "bytes=%d,flags=%d,data=%s", n, header.flags, buffer);
  ReportCase("recvmsg_after_truncation_gets_next_message", "bytes=4,flags=0,data=next", actual);
  close(bound[0]);
  close(bound[1]);
  close(pair[0]);
  close(pair[1]);
}

static void SharedMemoryAndTable(void) {
  EXPECT_ERRNO("mem_obj_create_65537", NACL_ABI_EINVAL, imc_mem_obj_create(65537));
  EXPECT_ERRNO("mem_obj_create_4096", NACL_ABI_EINVAL, imc_mem_obj_create(4096));
  EXPECT_ERRNO("mem_obj_create_0", NACL_ABI_ENOMEM, imc_mem_obj_create(0));
  int memory = imc_mem_obj_create(NACL_ABI_MAP_PAGESIZE);
  ReportCase("mem_obj_create_65536", "ok", memory >= 0 ? "ok" : ErrnoName(errno));
  close(memory);

  EXPECT_ERRNO("dup2_negative", NACL_ABI_EINVAL, nacl_dup2(1, -1));
  EXPECT_ERRNO("dup2_4096", NACL_ABI_EINVAL, nacl_dup2(1, NACL_ABI_DESCRIPTOR_TABLE_SIZE));
  EXPECT_ERRNO("dup2_4095", 0, nacl_dup2(1, NACL_ABI_DESCRIPTOR_TABLE_SIZE - 1));
  EXPECT_ERRNO("close_4095", 0, nacl_close(NACL_ABI_DESCRIPTOR_TABLE_SIZE - 1));
  EXPECT_ERRNO("close_closed", NACL_ABI_EBADF, nacl_close(NACL_ABI_DESCRIPTOR_TABLE_SIZE - 1));
  int d = dup(1);
  if (d < 0) Fail("dup");
  EXPECT_ERRNO("libc_close_open", 0, close(d));
  EXPECT_ERRNO("libc_close_closed", NACL_ABI_EBADF, close(d));
}

static void UnknownCalls(void) {
  EXPECT_ERRNO("nacl_unassigned_number_2", NACL_ABI_ENOSYS, nacl_syscall(2, 0, 0, 0, 0, 0, 0));
  EXPECT_ERRNO("nacl_unassigned_number_127", NACL_ABI_ENOSYS,
               nacl_syscall(NACL_ABI_SYSCALL_COUNT - 1, 0, 0, 0, 0, 0, 0));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  MakeBadPages();
  UnopenedDescriptors();
  WrongDescriptorTypes();
  UnreadableMemory();
  Limits();
  BadDescriptorsInMessages();
  ClosedEnds();
  WouldBlock();
  Truncation();
  SharedMemoryAndTable();
  UnknownCalls();
  printf("DONE\n");
  return 0;
}
