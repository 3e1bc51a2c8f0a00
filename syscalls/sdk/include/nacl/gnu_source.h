/*
 * Included first in every C file that tools/nacl-cc and the nacl_module Bazel macro compile:
 * defines _GNU_SOURCE, as NaCl's newlib exposed environ, PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP
 * and the like without it. The definition is empty, as `#define _GNU_SOURCE` writes it, so a
 * source that defines it that way still compiles without a warning. C++ compilers define
 * _GNU_SOURCE themselves. Define NACL_NO_GNU_SOURCE (-DNACL_NO_GNU_SOURCE) to go without.
 */
#if !defined(__cplusplus) && !defined(_GNU_SOURCE) && !defined(NACL_NO_GNU_SOURCE)
#define _GNU_SOURCE
#endif
