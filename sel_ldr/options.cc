#include "sel_ldr/options.h"

#include <getopt.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "imc/bound_socket.h"
#include "syscalls/nacl_abi.h"

namespace sel_ldr {
namespace {

absl::Status Usage(absl::string_view message) { return absl::InvalidArgumentError(message); }

// getopt_long's codes for the options without a letter (above any char).
enum LongOnly : int {
  kMemoryLimit = 256,
  kMaxPendingConnections,
  kMaxThreads,
  kHelp,
  kVersion,
};

// One row per option; getopt's optstring and long options are both made from it.
struct FlagSpec {
  int code;               // The letter, or a LongOnly code.
  const char* long_name;  // Without the leading "--"; nullptr if letter only.
  bool takes_value;
};

constexpr FlagSpec kFlags[] = {
    {'h', "host-fd", true},
    {'r', "read-fd", true},
    {'w', "write-fd", true},
    {'i', "imc-fd", true},
    {'X', "bootstrap-fd", true},
    {'E', "env", true},
    {'p', "pass-env", false},
    {'a', "allow-files", false},
    {'v', "verbose", false},
    {'q', "quiet", false},
    {'f', "file", true},
    {'m', "mount", true},
    {kMemoryLimit, "memory-limit", true},
    {kMaxPendingConnections, "max-pending-connections", true},
    {kMaxThreads, "max-threads", true},
    {kHelp, "help", false},
    {kVersion, "version", false},
    // Native Client's other flags (see LoaderUsage): accepted where meaningless here,
    // refused with the reason where honouring them silently would mislead.
    {'B', nullptr, true},
    {'e', nullptr, false},
    {'S', nullptr, false},
    {'l', nullptr, true},
    {'Q', nullptr, false},
    {'c', nullptr, false},
    {'F', nullptr, false},
    {'g', nullptr, false},
    {'s', nullptr, false},
};

bool IsLetter(int code) { return code > 0 && code < 256; }

// "+": stop at the first non-option (the module path), so the module's own arguments are
// never taken for ours. ":": report a missing value as ':' rather than '?', and print
// nothing (opterr is cleared as well): the messages are ours.
std::string OptString() {
  std::string optstring = "+:";
  for (const FlagSpec& f : kFlags) {
    if (!IsLetter(f.code)) continue;
    optstring.push_back(static_cast<char>(f.code));
    if (f.takes_value) optstring.push_back(':');
  }
  return optstring;
}

std::vector<option> LongOptions() {
  std::vector<option> options;
  for (const FlagSpec& f : kFlags) {
    if (f.long_name == nullptr) continue;
    options.push_back(
        {f.long_name, f.takes_value ? required_argument : no_argument, nullptr, f.code});
  }
  options.push_back({nullptr, 0, nullptr, 0});
  return options;
}

// The option as the user wrote it, for messages: "-h" or "--host-fd" (the full name, also
// for an abbreviation, which getopt_long accepts when it is unambiguous).
std::string Written(const FlagSpec& spec, absl::string_view element) {
  if (absl::StartsWith(element, "--") && spec.long_name != nullptr) {
    return absl::StrCat("--", spec.long_name);
  }
  return std::string{'-', static_cast<char>(spec.code)};
}

const FlagSpec* FindFlag(int code) {
  for (const FlagSpec& f : kFlags) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

// The message for getopt_long's '?' (unknown option, or a value given to one that takes
// none) and ':' (no value), naming the argument. `element` is the argv element the option
// was in.
absl::Status GetoptError(int result, absl::string_view element) {
  const bool is_long = absl::StartsWith(element, "--");
  absl::string_view long_name = element;
  if (is_long) long_name = long_name.substr(0, long_name.find('='));
  const FlagSpec* spec = optopt != 0 ? FindFlag(optopt) : nullptr;
  if (result == ':') {
    std::string written = spec != nullptr ? Written(*spec, element) : std::string(element);
    return Usage(absl::StrCat(written, " needs a value"));
  }
  if (is_long && spec != nullptr) {  // Known, so the fault is its value.
    return Usage(absl::StrCat(Written(*spec, element), " takes no value"));
  }
  if (is_long) {
    // optopt is 0 for both an unknown and an ambiguous abbreviation: tell them apart.
    std::vector<std::string> candidates;
    for (const FlagSpec& f : kFlags) {
      if (f.long_name != nullptr && absl::StartsWith(absl::StrCat("--", f.long_name), long_name)) {
        candidates.push_back(absl::StrCat("--", f.long_name));
      }
    }
    if (candidates.size() > 1) {
      return Usage(
          absl::StrCat("ambiguous option ", long_name, " (", absl::StrJoin(candidates, ", "), ")"));
    }
    return Usage(absl::StrCat("unknown option ", long_name));
  }
  const std::string letter = {'-', static_cast<char>(optopt)};
  if (element == letter) return Usage(absl::StrCat("unknown option ", letter));
  return Usage(absl::StrCat("unknown option ", letter, " in ", element));
}

absl::Status ParseGrant(const std::string& flag, const std::string& value,
                        GrantedDescriptor::Kind kind, LoaderOptions* options) {
  std::pair<std::string, std::string> parts = absl::StrSplit(value, absl::MaxSplits(':', 1));
  int d = -1;
  int host = -1;
  if (!absl::SimpleAtoi(parts.first, &d) || !absl::SimpleAtoi(parts.second, &host) ||
      !absl::StrContains(value, ':')) {
    return Usage(absl::StrCat(flag, " ", value, ": expected d:D (module descriptor:host fd)"));
  }
  if (d < 0 || d >= NACL_ABI_DESCRIPTOR_TABLE_SIZE) {
    return Usage(absl::StrCat(flag, " ", value, ": module descriptor ", d, " is outside 0..",
                              NACL_ABI_DESCRIPTOR_TABLE_SIZE - 1));
  }
  if (host < 0) return Usage(absl::StrCat(flag, " ", value, ": bad host fd ", host));
  for (const GrantedDescriptor& other : options->descriptors) {
    if (other.module_descriptor == d) {
      return Usage(absl::StrCat(flag, " ", value, ": module descriptor ", d,
                                " is already given by ", other.flag));
    }
  }
  options->descriptors.push_back({kind, d, host, absl::StrCat(flag, " ", value)});
  return absl::OkStatus();
}

// The options that have no letter.
absl::Status ApplyLongOnly(int code, const std::string& written, const std::string& value,
                           LoaderOptions* options) {
  switch (code) {
    case kMemoryLimit: {
      uint64_t bytes = 0;
      uint64_t scale = 1;
      std::string number = value;
      if (!number.empty() && (number.back() == 'M' || number.back() == 'G')) {
        scale = number.back() == 'M' ? (uint64_t{1} << 20) : (uint64_t{1} << 30);
        number.pop_back();
      }
      if (!absl::SimpleAtoi(number, &bytes) || bytes == 0 || bytes > (UINT64_MAX / scale)) {
        return Usage(
            absl::StrCat(written, " ", value, ": expected bytes, or a number with M or G"));
      }
      options->address_space_limit = bytes * scale;
      return absl::OkStatus();
    }
    case kMaxPendingConnections: {
      int count = 0;
      if (!absl::SimpleAtoi(value, &count) || count < 1 || count > imc::kMaxPendingLimit) {
        return Usage(absl::StrCat(written, " ", value, ": expected a number of requests in 1..",
                                  imc::kMaxPendingLimit));
      }
      options->max_pending_connections = count;
      return absl::OkStatus();
    }
    case kMaxThreads: {
      int count = 0;
      if (!absl::SimpleAtoi(value, &count) || count < 1 || count > kMaxThreadsLimit) {
        return Usage(absl::StrCat(written, " ", value, ": expected a number of threads in 1..",
                                  kMaxThreadsLimit));
      }
      options->max_threads = count;
      return absl::OkStatus();
    }
    case kHelp:
      options->help = true;
      return absl::OkStatus();
    case kVersion:
      options->version = true;
      return absl::OkStatus();
    default:
      return Usage(absl::StrCat("unknown option ", written));
  }
}

absl::Status Apply(const FlagSpec& spec, const std::string& written, const std::string& value,
                   LoaderOptions* options) {
  switch (spec.code) {
    case 'h':
      return ParseGrant(written, value, GrantedDescriptor::Kind::kReadWrite, options);
    case 'r':
      return ParseGrant(written, value, GrantedDescriptor::Kind::kReadOnly, options);
    case 'w':
      return ParseGrant(written, value, GrantedDescriptor::Kind::kWriteOnly, options);
    case 'i':
      return ParseGrant(written, value, GrantedDescriptor::Kind::kImc, options);
    case 'X': {
      int fd = 0;
      if (!absl::SimpleAtoi(value, &fd)) {
        return Usage(absl::StrCat(written, " ", value, ": expected a host fd number"));
      }
      if (fd < 0) {
        return Usage(
            absl::StrCat(written, " ", value,
                         ": there is no global service socket any more; addresses are descriptors. "
                         "Make a socketpair, pass one end as -X FD, and receive the module's "
                         "SocketAddress as a message on the other end (README: Embedding)"));
      }
      if (options->bootstrap_fd.has_value()) return Usage("-X given twice");
      options->bootstrap_fd = fd;
      return absl::OkStatus();
    }
    case 'E': {
      // NaCl passed the string as it was; "NAME" without '=' sets NAME to "" here, which is
      // what a program that asks for NAME can see (docs: README, sel_ldr --help).
      size_t eq = value.find('=');
      if (eq == 0 || value.empty()) {
        return Usage(absl::StrCat(written, " ", value, ": expected NAME=VALUE or NAME"));
      }
      if (eq == std::string::npos) {
        options->environment.emplace_back(value, "");
      } else {
        options->environment.emplace_back(value.substr(0, eq), value.substr(eq + 1));
      }
      return absl::OkStatus();
    }
    case 'B':
      return Usage(absl::StrCat(written, " ", value,
                                ": there is no IRT; a module is a static program with its own "
                                "libc (tools/nacl-cc links it)"));
    case 'l':
      return Usage(absl::StrCat(written, " ", value,
                                ": sel_ldr logs to stderr; redirect it instead (2>", value, ")"));
    case 'F':
      return Usage(absl::StrCat(written,
                                ": there is no load-only mode; a module is checked (static "
                                "x86-64 ELF) when it starts, and runs"));
    case 'g':
      return Usage(absl::StrCat(written,
                                ": there is no debug stub; a module is a native program: debug "
                                "it outside sel_ldr with gdb"));
    case 'e':
    case 'S':
    case 'Q':
    case 'c':
    case 's':
      // Meaningless here (LoaderUsage says why); accepted so that NaCl command lines run.
      return absl::OkStatus();
    case 'p':
      options->pass_host_environment = true;
      return absl::OkStatus();
    case 'a':
      // NaCl's "allow file access" to the whole host file system cannot be confined; the
      // loader notes that and gives only what -m gives.
      options->allow_files = true;
      return absl::OkStatus();
    case 'm': {
      if (options->mount.has_value()) return Usage(absl::StrCat(written, " given twice"));
      MountOption mount;
      mount.directory = value;
      if (absl::EndsWith(value, ":ro") || absl::EndsWith(value, ":rw")) {
        mount.read_only = absl::EndsWith(value, ":ro");
        mount.directory.resize(value.size() - 3);
      }
      if (mount.directory.empty()) {
        return Usage(absl::StrCat(written, " ", value, ": expected DIR or DIR:ro"));
      }
      options->mount = std::move(mount);
      return absl::OkStatus();
    }
    case 'v':
      ++options->verbosity;
      return absl::OkStatus();
    case 'q':
      options->quiet = true;
      return absl::OkStatus();
    case 'f':
      if (!options->module_path.empty()) return Usage("more than one module given");
      options->module_path = value;
      return absl::OkStatus();
    default:
      break;
  }
  return ApplyLongOnly(spec.code, written, value, options);
}

// Checks the grants against each other, once all are known.
absl::Status CheckGrants(const LoaderOptions& options) {
  if (options.bootstrap_fd.has_value()) {
    for (const GrantedDescriptor& d : options.descriptors) {
      if (d.module_descriptor == 3 || d.module_descriptor == 4) {
        return Usage(absl::StrCat(d.flag, ": descriptors 3 and 4 hold -X's service socket"));
      }
    }
  }
  // The loader adopts each host fd it is given (beyond its own stdio, which it duplicates)
  // and closes it with the module's descriptor: naming one twice would leave the second
  // descriptor on a closed number that the loader's next fd reuses.
  std::vector<std::pair<int, std::string>> owners;
  for (const GrantedDescriptor& d : options.descriptors) owners.emplace_back(d.host_fd, d.flag);
  if (options.bootstrap_fd.has_value()) {
    owners.emplace_back(*options.bootstrap_fd, absl::StrCat("-X ", *options.bootstrap_fd));
  }
  for (size_t i = 0; i < owners.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (owners[i].first == owners[j].first && owners[i].first > 2) {
        return Usage(absl::StrCat(owners[i].second, ": host fd ", owners[i].first,
                                  " is already given by ", owners[j].second));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LoaderOptions> ParseLoaderOptions(const std::vector<std::string>& argv) {
  LoaderOptions options;
  // getopt_long wants mutable strings; with "+" it does not permute them.
  std::vector<std::string> storage = argv;
  std::vector<char*> args;
  for (std::string& arg : storage) args.push_back(arg.data());
  args.push_back(nullptr);
  const int argc = static_cast<int>(storage.size());
  const std::string optstring = OptString();
  const std::vector<option> long_options = LongOptions();
  // getopt's state is global: 0 makes glibc start over (a new argv, no half-read "-vq"),
  // so that the parser can run more than once in a process.
  optind = 0;
  opterr = 0;
  while (true) {
    // The element the next option is in: getopt_long reads options from argv[optind] on
    // (and optind is 1 when it starts over).
    const int element_index = optind == 0 ? 1 : optind;
    const int code =
        getopt_long(argc, args.data(), optstring.c_str(), long_options.data(), nullptr);
    if (code == -1) break;
    const absl::string_view element =
        element_index < argc ? absl::string_view(storage[element_index]) : absl::string_view();
    if (code == '?' || code == ':') return GetoptError(code, element);
    const FlagSpec* spec = FindFlag(code);
    if (spec == nullptr) return Usage(absl::StrCat("unknown option ", element));
    const std::string value = spec->takes_value && optarg != nullptr ? optarg : "";
    absl::Status applied = Apply(*spec, Written(*spec, element), value, &options);
    if (!applied.ok()) return applied;
  }
  size_t i = static_cast<size_t>(optind);
  if (options.help || options.version) return options;
  if (options.module_path.empty()) {
    if (i >= argv.size()) return Usage("no module given");
    options.module_path = argv[i++];
  }
  options.module_args.assign(argv.begin() + static_cast<ptrdiff_t>(i), argv.end());
  RETURN_IF_ERROR(CheckGrants(options));
  return options;
}

std::string LoaderUsage() {
  return R"(Usage: sel_ldr [options] [--] module.nexe [args...]
       sel_ldr [options] -f module.nexe [args...]

Options end at the module path (or "--"): what follows is the module's. Letters combine
(-vq, -vv); a long option takes its value as --name VALUE or --name=VALUE.

Runs an untrusted module (a static x86-64 ELF program) in a sandbox. The module can reach
only the descriptors it is given; it talks to the world through IMC.

Descriptors (d: the module's descriptor number, D: a host fd of sel_ldr):
  -h, --host-fd d:D        give host fd D to the module as HostIo descriptor d (read-write)
  -r, --read-fd d:D        ... read-only
  -w, --write-fd d:D       ... write-only
  -i, --imc-fd d:D         give host IMC socket D (AF_UNIX SOCK_SEQPACKET) as ConnectedSocket d
  -X, --bootstrap-fd D     create the module's service socket (BoundSocket at 3, SocketAddress
                           at 4) and send its SocketAddress over host IMC socket D
                           Descriptors 0, 1, 2 are sel_ldr's stdin, stdout and stderr.
Environment:
  -E, --env NAME=VALUE     set a variable in the module's environment (repeatable);
                           -E NAME sets NAME to the empty string (NaCl passed "NAME" as is)
  -p, --pass-env           start from sel_ldr's environment (default: an empty one)
Limits:
      --memory-limit N     the module's address space, in bytes or with M / G (default 8G)
      --max-pending-connections N
                           connection requests that may wait unaccepted on each of the
                           module's bound sockets (default 4096); a connect beyond waits
      --max-threads N      threads the module may run at once, its main thread included
                           (default 256); pthread_create beyond fails with EAGAIN
Output:
  -v, --verbose            trace every trapped syscall to stderr (repeat for more detail)
  -q, --quiet              no messages of sel_ldr's own but errors
Files:
  -m, --mount DIR[:ro]     make host directory DIR the module's "/" (and working directory):
                           open, stat, access, readlink, getdents64, mkdir, unlink, rmdir and
                           rename resolve beneath DIR, never outside it (no "..", symlink,
                           /proc or mount point leads out); with :ro every change is EROFS.
                           Without -m, path calls fail (no file system)
  -a                       NaCl's "allow file access": the whole host file system cannot be
                           confined, so -a gives nothing beyond -m (a note says so without -m)
Compatibility (Native Client's flags):
  -e, -S                   accepted: a module handles its own signals and exceptions natively
  -Q                       accepted: there is no platform qualification to skip
  -c, -s                   accepted: there is no validator to relax (the kernel confines)
  -B FILE                  refused: there is no IRT; a module links its own libc
  -l FILE                  refused: sel_ldr logs to stderr; redirect it (2>FILE)
  -F                       refused: there is no load-only mode
  -g                       refused: there is no debug stub; debug the module natively
      --help, --version

Exit status: the module's own; 128+N if it died of signal N; 159 (128+SIGSYS) if it broke
the sandbox policy; 2 usage error; 125 the sandbox could not be set up; 126 the file is not
a runnable module (not ELF, not x86-64, dynamically linked); 127 the module file is missing.

There is no -X -1 and no global service socket: an address is a descriptor. An embedder
makes a socketpair, passes one end as -X FD, and receives the SocketAddress on the other.
)";
}

}  // namespace sel_ldr
