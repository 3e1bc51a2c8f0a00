// The loader as a library: builds a module's descriptor table from LoaderOptions, runs the
// module in its sandbox, and turns the outcome into sel_ldr's exit status and messages.
#ifndef SEL_LDR_LOADER_H_
#define SEL_LDR_LOADER_H_

#include "sel_ldr/options.h"

namespace sel_ldr {

// Runs the module `options` name to its end. Returns sel_ldr's exit status (see options.h);
// messages go to stderr.
int RunLoader(const LoaderOptions& options);

}  // namespace sel_ldr

#endif  // SEL_LDR_LOADER_H_
