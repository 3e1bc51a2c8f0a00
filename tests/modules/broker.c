/* broker: introduces two modules. Receives a SocketAddress on ConnectedSocket 3 (from a
 * server module) and passes it on over ConnectedSocket 4 (to a client module), which then
 * connects to the server directly. The broker itself never connects. */
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <stdio.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kFromServer = 3, kToClient = 4 };

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  char name[16];
  int address = -1;
  struct NaClAbiNaClImcMsgIoVec iov = {name, sizeof(name) - 1};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, &address, 1, 0};
  int n = imc_recvmsg(kFromServer, &header, 0);
  if (n < 0) Fail("broker: imc_recvmsg");
  name[n] = '\0';
  struct nacl_abi_stat st;
  if (header.desc_length != 1 || nacl_fstat(address, &st) != 0 ||
      (st.nacl_abi_st_mode & NACL_ABI_S_IFMT) != NACL_ABI_S_IFSOCKADDR) {
    printf("broker: expected one SocketAddress from the server\n");
    return 1;
  }
  printf("broker: got the SocketAddress of '%s'\n", name);
  iov.length = (size_t)n;
  if (imc_sendmsg(kToClient, &header, 0) != n) Fail("broker: imc_sendmsg");
  printf("broker: passed it on\n");
  return 0;
}
