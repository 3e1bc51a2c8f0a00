/* Native Client's path for <sys/nacl_imc_api.h>, so NaCl-era code compiles unmodified. */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_NACL_IMC_API_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_NACL_IMC_API_H_
#include <sys/nacl_imc_api.h>
#endif
