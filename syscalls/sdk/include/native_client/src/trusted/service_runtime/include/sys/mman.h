/* Native Client's sys/mman.h: see bits/mman.h. */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_MMAN_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_MMAN_H_
#include "native_client/src/trusted/service_runtime/include/bits/mman.h"
#endif
