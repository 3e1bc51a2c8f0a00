/* echo_client: receives a server's SocketAddress on ConnectedSocket 3 (from a broker),
 * connects to the server directly, and checks that it echoes bytes and a descriptor (one end
 * of a DataOnlySocket pair, which must still lead to the other end). Exits 0 if all held. */
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kFromBroker = 3 };

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  char buffer[64];
  int address = -1;
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, &address, 1, 0};
  if (imc_recvmsg(kFromBroker, &header, 0) < 0 || header.desc_length != 1) {
    Fail("echo_client: receive the address");
  }
  close(kFromBroker);
  int connection = imc_connect(address);
  if (connection < 0) Fail("echo_client: imc_connect");
  printf("echo_client: connected\n");

  int pair[2];
  if (imc_socketpair(pair) != 0) Fail("echo_client: imc_socketpair");
  const char message[] = "hello through the broker";
  int sent_descriptors[2] = {pair[1], -1};
  struct NaClAbiNaClImcMsgIoVec out = {(void *)message, sizeof(message)};
  struct NaClAbiNaClImcMsgHdr request = {&out, 1, sent_descriptors, 2, 0};
  if (imc_sendmsg(connection, &request, 0) != (int)sizeof(message)) {
    Fail("echo_client: imc_sendmsg");
  }
  close(pair[1]);

  int echoed[4] = {-5, -5, -5, -5};
  memset(buffer, 0, sizeof(buffer));
  header = (struct NaClAbiNaClImcMsgHdr){&iov, 1, echoed, 4, 0};
  int n = imc_recvmsg(connection, &header, 0);
  if (n < 0) Fail("echo_client: imc_recvmsg");
  printf("echo_client: echoed %d bytes '%s', %zu descriptors, second %d\n", n, buffer,
         header.desc_length, echoed[1]);
  if (n != (int)sizeof(message) || strcmp(buffer, message) != 0 || header.desc_length != 2 ||
      echoed[1] != -1) {
    return 1;
  }
  /* The echoed descriptor is the same channel: what goes in comes out at pair[0]. */
  struct NaClAbiNaClImcMsgIoVec ping = {"ping", 4};
  struct NaClAbiNaClImcMsgHdr ping_header = {&ping, 1, NULL, 0, 0};
  if (imc_sendmsg(echoed[0], &ping_header, 0) != 4) Fail("echo_client: send on echoed end");
  memset(buffer, 0, sizeof(buffer));
  header = (struct NaClAbiNaClImcMsgHdr){&iov, 1, NULL, 0, 0};
  if (imc_recvmsg(pair[0], &header, 0) != 4 || strcmp(buffer, "ping") != 0) {
    Fail("echo_client: the echoed descriptor does not lead to its pair");
  }
  printf("echo_client: the echoed DataOnlySocket works\n");
  close(connection);
  close(address);
  return 0;
}
