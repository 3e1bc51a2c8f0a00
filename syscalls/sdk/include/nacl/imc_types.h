/*
 * IMC types for untrusted modules: NaClAbiNaClImcMsgHdr, NaClAbiNaClImcMsgIoVec, the IMC
 * limits and flags, and the NACL_ABI_E* errno values. Same names as Native Client's
 * native_client/src/public/imc_types.h.
 */
#ifndef NACL_IMC_TYPES_H_
#define NACL_IMC_TYPES_H_

#include <nacl/nacl_abi.h>

#endif /* NACL_IMC_TYPES_H_ */
