/*
 * The IMC calls for untrusted modules, with Native Client's signatures. Each returns -1 and
 * sets errno on failure (see the error table in the project's docs/abi.md).
 */
#ifndef NACL_IMC_SYSCALLS_H_
#define NACL_IMC_SYSCALLS_H_

#include <nacl/imc_types.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a bound socket: sock_and_addr[0] is the BoundSocket, [1] its SocketAddress. */
int imc_makeboundsock(int sock_and_addr[2]);

/* Waits for a connection on BoundSocket `d`; returns a new ConnectedSocket. */
int imc_accept(int d);

/* Connects through SocketAddress `d`; returns a new ConnectedSocket. */
int imc_connect(int d);

/* Sends one message (bytes from nmhp->iov, descriptors from nmhp->descv, -1 = invalid).
 * flags: NACL_ABI_IMC_NONBLOCK. Returns the bytes sent. */
int imc_sendmsg(int d, const struct NaClAbiNaClImcMsgHdr *nmhp, int flags);

/* Receives one message into nmhp->iov and nmhp->descv; sets nmhp->desc_length and
 * nmhp->flags (NACL_ABI_RECVMSG_DATA_TRUNCATED, NACL_ABI_RECVMSG_DESC_TRUNCATED).
 * flags: NACL_ABI_IMC_NONBLOCK. Returns the bytes received. */
int imc_recvmsg(int d, struct NaClAbiNaClImcMsgHdr *nmhp, int flags);

/* Creates a SharedMemory descriptor of `nbytes` (a multiple of NACL_ABI_MAP_PAGESIZE);
 * map it with mmap(). */
int imc_mem_obj_create(size_t nbytes);

/* Creates a pair of connected DataOnlySockets (bytes only) in sock_pair[0] and [1]. */
int imc_socketpair(int sock_pair[2]);

#ifdef __cplusplus
}
#endif

#endif /* NACL_IMC_SYSCALLS_H_ */
