/* peer_receiver D: receives messages on ConnectedSocket D (sel_ldr -i) and answers each one:
 * an honest message with its own bytes, a refused one (imc_recvmsg fails with EIO: the
 * message was malformed, or the peer closed) with "refused". It exits 0 when an answer
 * cannot be sent, that is once the peer closed. */
#include <errno.h>
#include <nacl/imc_syscalls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/modules/report.h"

static char buffer[4096];

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 2) Fail("usage: peer_receiver D");
  int channel = atoi(argv[1]);
  printf("peer_receiver: ready\n");
  for (;;) {
    int descv[NACL_ABI_IMC_DESC_MAX];
    struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
    struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, NACL_ABI_IMC_DESC_MAX, 0};
    int received = imc_recvmsg(channel, &header, 0);
    if (received < 0) {
      if (errno != EIO) Fail("peer_receiver: imc_recvmsg");
      memcpy(buffer, "refused", 7);
      received = 7;
      header.desc_length = 0;
    }
    for (size_t i = 0; i < header.desc_length; ++i) {
      if (descv[i] != -1) close(descv[i]);
    }
    struct NaClAbiNaClImcMsgIoVec answer_iov = {buffer, (size_t)received};
    struct NaClAbiNaClImcMsgHdr answer = {&answer_iov, 1, NULL, 0, 0};
    if (imc_sendmsg(channel, &answer, 0) < 0) {
      if (errno == EIO) return 0; /* The peer closed. */
      Fail("peer_receiver: imc_sendmsg");
    }
  }
}
