/* A module for the launcher's tests; argv[1] says what to do:
 *   echo       accept one connection on the service socket (3) and echo every message,
 *              bytes and descriptors, until the peer closes; then exit 0
 *   idle       never accept: sleep until killed
 *   no_service close the service socket (3, 4) at once, as a module that never offers one,
 *              then sleep until killed
 *   print      write "out" to stdout and "err" to stderr, exit 0
 *   exit N     exit with status N
 *   violate    try to make a socket (a policy violation)
 */
#include <fcntl.h>
#include <nacl/imc_syscalls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int Echo(void) {
  int connection = imc_accept(3);
  if (connection < 0) return 10;
  for (;;) {
    char buffer[4096];
    int descriptors[NACL_ABI_IMC_DESC_MAX];
    struct NaClAbiNaClImcMsgIoVec iov = {buffer, sizeof(buffer)};
    struct NaClAbiNaClImcMsgHdr message = {&iov, 1, descriptors, NACL_ABI_IMC_DESC_MAX, 0};
    int n = imc_recvmsg(connection, &message, 0);
    if (n < 0) return 0; /* The peer closed. */
    iov.length = (size_t)n;
    if (imc_sendmsg(connection, &message, 0) < 0) return 11;
    for (size_t i = 0; i < message.desc_length; ++i) {
      if (descriptors[i] >= 0) close(descriptors[i]);
    }
  }
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "echo") == 0) return Echo();
  if (strcmp(mode, "idle") == 0) {
    for (;;) sleep(1000);
  }
  if (strcmp(mode, "no_service") == 0) {
    close(3);
    close(4);
    printf("closed\n");
    fflush(stdout);
    for (;;) sleep(1000);
  }
  if (strcmp(mode, "print") == 0) {
    printf("out\n");
    fflush(stdout);
    fprintf(stderr, "err\n");
    return 0;
  }
  if (strcmp(mode, "exit") == 0 && argc > 2) return atoi(argv[2]);
  if (strcmp(mode, "violate") == 0) {
    socket(AF_UNIX, SOCK_STREAM, 0);
    return 0;
  }
  fprintf(stderr, "unknown mode '%s'\n", mode);
  return 64;
}
