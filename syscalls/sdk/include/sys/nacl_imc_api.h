/*
 * Native Client's <sys/nacl_imc_api.h>: the IMC types under the names NaCl's early SDK gave
 * them (struct NaClImcMsgHdr, struct NaClImcMsgIoVec), which are the NaClAbi structures.
 */
#ifndef SYS_NACL_IMC_API_H_
#define SYS_NACL_IMC_API_H_

#include <nacl/imc_types.h>

#define NaClImcMsgIoVec NaClAbiNaClImcMsgIoVec
#define NaClImcMsgHdr NaClAbiNaClImcMsgHdr

#endif /* SYS_NACL_IMC_API_H_ */
