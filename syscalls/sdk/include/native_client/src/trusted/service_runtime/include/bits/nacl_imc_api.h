/* Native Client's path for <nacl/imc_types.h>, so NaCl-era code compiles unmodified. */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_BITS_NACL_IMC_API_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_BITS_NACL_IMC_API_H_
#include <nacl/imc_types.h>
#endif
