/* Native Client's path for <nacl/imc_types.h>, so NaCl-era code compiles unmodified. */
#ifndef NATIVE_CLIENT_SRC_PUBLIC_IMC_TYPES_H_
#define NATIVE_CLIENT_SRC_PUBLIC_IMC_TYPES_H_
#include <nacl/imc_types.h>
#endif
