/*
 * Native Client's sys/time.h: struct nacl_abi_timeval and struct nacl_abi_timespec, laid out
 * as Linux's x86-64 struct timeval and struct timespec (64-bit seconds and fractions).
 */
#ifndef NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_TIME_H_
#define NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_TIME_H_

#include "native_client/src/trusted/service_runtime/include/machine/_types.h"

struct nacl_abi_timeval {
  nacl_abi_time_t nacl_abi_tv_sec;
  nacl_abi_suseconds_t nacl_abi_tv_usec;
};

struct nacl_abi_timespec {
  nacl_abi_time_t tv_sec;
  int64_t tv_nsec;
};

#endif /* NATIVE_CLIENT_SERVICE_RUNTIME_INCLUDE_SYS_TIME_H_ */
