// The host IMC library: include this one header to use it.
#ifndef IMC_IMC_H_
#define IMC_IMC_H_

#include "imc/bound_socket.h"    // IWYU pragma: export
#include "imc/cancellation.h"    // IWYU pragma: export
#include "imc/descriptor.h"      // IWYU pragma: export
#include "imc/message_socket.h"  // IWYU pragma: export
#include "imc/shared_memory.h"   // IWYU pragma: export

#endif  // IMC_IMC_H_
