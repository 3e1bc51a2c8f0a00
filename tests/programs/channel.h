/* A message channel for the corpus programs: imc_socketpair and imc_sendmsg/imc_recvmsg in a
 * module, the same calls' Linux counterparts (a SOCK_SEQPACKET socketpair) in the native
 * build, so that one source runs both ways and its output can be compared. */
#ifndef TESTS_PROGRAMS_CHANNEL_H_
#define TESTS_PROGRAMS_CHANNEL_H_

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef NATIVE_BUILD
static inline int channel_pair(int fds[2]) { return socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds); }
static inline ssize_t channel_send(int d, const void *data, size_t size) {
  return send(d, data, size, MSG_NOSIGNAL);
}
static inline ssize_t channel_recv(int d, void *buffer, size_t size) {
  return recv(d, buffer, size, 0);
}
#else
#include <nacl/imc_syscalls.h>
static inline int channel_pair(int fds[2]) { return imc_socketpair(fds); }
static inline ssize_t channel_send(int d, const void *data, size_t size) {
  struct NaClAbiNaClImcMsgIoVec iov = {(void *)data, size};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  return imc_sendmsg(d, &header, 0);
}
/* A closed peer is end of stream (0), as recv answers natively. */
static inline ssize_t channel_recv(int d, void *buffer, size_t size) {
  struct NaClAbiNaClImcMsgIoVec iov = {buffer, size};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, NULL, 0, 0};
  ssize_t n = imc_recvmsg(d, &header, 0);
  return n < 0 && errno == EIO ? 0 : n;
}
#endif

#endif /* TESTS_PROGRAMS_CHANNEL_H_ */
