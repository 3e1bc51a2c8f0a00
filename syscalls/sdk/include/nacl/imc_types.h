/*
 * IMC types for untrusted modules: NaClAbiNaClImcMsgHdr, NaClAbiNaClImcMsgIoVec, the IMC
 * limits and flags, and the NACL_ABI_E* errno values. Same names as Native Client's
 * native_client/src/public/imc_types.h.
 */
#ifndef NACL_IMC_TYPES_H_
#define NACL_IMC_TYPES_H_

#include <nacl/nacl_abi.h>

/* A descriptor number, as NaCl's IMC library calls it in a module. */
#ifndef __nacl_handle_defined
#define __nacl_handle_defined
typedef int NaClHandle;
#endif

/* The most bytes one IMC message takes on the wire: its user bytes and the loader's 16-byte
 * header (which carries the descriptors' types; the descriptors travel beside it). */
#define NACL_ABI_IMC_BYTES_MAX (NACL_ABI_IMC_USER_BYTES_MAX + 16)

#endif /* NACL_IMC_TYPES_H_ */
