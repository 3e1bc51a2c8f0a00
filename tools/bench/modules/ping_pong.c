/*
 * ping_pong: one end of module_ping_pong. Descriptor 3 is a ConnectedSocket to the other
 * module (sel_ldr -i 3:FD).
 *   ping_pong ping: batches (see batch_io.h) of round trips: 64 bytes out with imc_sendmsg,
 *                   the echo back with imc_recvmsg.
 *   ping_pong echo: reports its pid, then sends back every message until the peer closes
 *                   (recvmsg fails with EIO), and exits 0.
 */
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <string.h>

#include "tools/bench/modules/batch_io.h"

enum { kSocket = 3, kMessageBytes = 64 };

static char buffer[kMessageBytes];

static int Transfer(int received) {
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr header;
  memset(&header, 0, sizeof(header));
  header.iov = &iov;
  header.iov_length = 1;
  return received ? imc_recvmsg(kSocket, &header, 0) : imc_sendmsg(kSocket, &header, 0);
}

static int RoundTrip(void) {
  if (Transfer(0) != kMessageBytes) return -1;
  return Transfer(1) == kMessageBytes ? 0 : -1;
}

static int Echo(void) {
  if (ReportPid() != 0) return 1;
  for (;;) {
    int received = Transfer(1);
    if (received < 0) return errno == EIO ? 0 : 1; /* EIO: the pinging module is gone. */
    if (received != kMessageBytes || Transfer(0) != kMessageBytes) return 1;
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "ping") == 0) return ServeBatches(RoundTrip);
  if (argc == 2 && strcmp(argv[1], "echo") == 0) return Echo();
  return 2;
}
