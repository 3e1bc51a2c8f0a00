// sel_ldr: runs an untrusted module in a sandbox. See LoaderUsage() and README.md.
#include <malloc.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "base/logging.h"
#include "sel_ldr/loader.h"
#include "sel_ldr/options.h"

int main(int argc, char** argv) {
  // One malloc arena: glibc would give each supervisor worker thread its own (a 64 MiB
  // reservation, its pages, four system calls on the first call a worker serves), which costs
  // a launch time and an idle supervisor memory. Workers allocate little, and seldom at once.
  mallopt(M_ARENA_MAX, 1);
  base::SetLogPrefix("sel_ldr");
  std::vector<std::string> args(argv, argv + argc);
  absl::StatusOr<sel_ldr::LoaderOptions> options = sel_ldr::ParseLoaderOptions(args);
  if (!options.ok()) {
    fprintf(stderr, "sel_ldr: %s\nTry 'sel_ldr --help'.\n",
            std::string(options.status().message()).c_str());
    return sel_ldr::kExitUsage;
  }
  if (options->help) {
    fputs(sel_ldr::LoaderUsage().c_str(), stdout);
    return 0;
  }
  if (options->version) {
    puts("sel_ldr 0.1 (NaCl-style syscall ABI, capability IMC)");
    return 0;
  }
  base::SetVerbosity(options->verbosity);
  base::SetQuiet(options->quiet);
  return sel_ldr::RunLoader(*options);
}
