// imc_client: talk to a module over IMC from the command line. See Usage().
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/errno_status.h"
#include "imc/imc.h"
#include "tools/launcher/launcher.h"

namespace {

constexpr char kUsage[] = R"(Usage: imc_client [options] --module MODULE.nexe [-- ARGS...]
       imc_client [options] --fd N
       imc_client [options] --address-fd N

Talks to a module over IMC. Each line read from stdin is sent as one message (without its
newline) and the reply is printed; a line starting with '/' is a command:
  /fd PATH         send the host file PATH to the module as a HostIo descriptor
  /shm TEXT        send a 64 KiB shared memory object holding TEXT
  /file PATH       send the contents of PATH as one message (at most 128 KiB)
  /quit            close the connection and exit
Replies print as '< TEXT', each descriptor that came with them as '< [Kind ...]'.

Where the module is:
  --module PATH      launch PATH under sel_ldr (found like the launcher does, or --sel-ldr)
                     and connect to its service address; ARGS after -- go to the module
  --fd N             use inherited IMC socket N (e.g. one end of a socketpair given to
                     sel_ldr with -i) as the connection
  --address-fd N     connect through inherited SocketAddress N
Options:
  --sel-ldr PATH     the sel_ldr to run
  --send-file PATH   send PATH as one message before reading stdin (repeatable)
  --no-wait          do not wait for a reply after each message
  --timeout SECONDS  how long to wait for the connection and each reply (default 5)
  --trace            run sel_ldr with -v (syscall trace on stderr)
  -h, --help
Long options take their value as --name VALUE or --name=VALUE.

Examples:
  echo hello | imc_client --module bazel-bin/tools/modules/echo_server.nexe
  imc_client --module echo_server.nexe            (interactive: type lines, /quit)
  printf '/fd /etc/hostname\n' | imc_client --module echo_server.nexe

Exit status: 0 done, 1 an IMC or module error (said on stderr), 2 usage error.
)";

struct ClientOptions {
  std::string module;
  std::vector<std::string> module_args;
  int fd = -1;
  int address_fd = -1;
  std::string sel_ldr;
  std::vector<std::string> send_files;
  bool wait_for_reply = true;
  absl::Duration timeout = absl::Seconds(5);
  bool trace = false;
};

int Fail(const std::string& message) {
  std::cerr << "imc_client: " << message << "\n";
  return 1;
}

// Reads a descriptor number (>= 0) into `out`.
bool ParseFd(const char* name, const char* text, int* out, std::string* error) {
  if (!absl::SimpleAtoi(text, out) || *out < 0) {
    *error = absl::StrCat(name, " ", text, ": expected a descriptor number");
    return false;
  }
  return true;
}

// Parses the command line with getopt_long: long options take "--name VALUE" or
// "--name=VALUE"; arguments after "--" go to the module. Exits 0 after --help.
std::optional<ClientOptions> ParseArgs(int argc, char** argv, std::string* error) {
  enum : int { kModule = 256, kFd, kAddressFd, kSelLdr, kSendFile, kNoWait, kTrace, kTimeout };
  static const option kOptions[] = {{"help", no_argument, nullptr, 'h'},
                                    {"module", required_argument, nullptr, kModule},
                                    {"fd", required_argument, nullptr, kFd},
                                    {"address-fd", required_argument, nullptr, kAddressFd},
                                    {"sel-ldr", required_argument, nullptr, kSelLdr},
                                    {"send-file", required_argument, nullptr, kSendFile},
                                    {"no-wait", no_argument, nullptr, kNoWait},
                                    {"trace", no_argument, nullptr, kTrace},
                                    {"timeout", required_argument, nullptr, kTimeout},
                                    {}};
  ClientOptions options;
  opterr = 0;
  int flag;
  // "+": stop at the first argument that is not an option.
  while ((flag = getopt_long(argc, argv, "+:h", kOptions, nullptr)) != -1) {
    switch (flag) {
      case 'h':
        std::cout << kUsage;
        exit(0);
      case kModule:
        options.module = optarg;
        break;
      case kFd:
        if (!ParseFd("--fd", optarg, &options.fd, error)) return std::nullopt;
        break;
      case kAddressFd:
        if (!ParseFd("--address-fd", optarg, &options.address_fd, error)) return std::nullopt;
        break;
      case kSelLdr:
        options.sel_ldr = optarg;
        break;
      case kSendFile:
        options.send_files.push_back(optarg);
        break;
      case kNoWait:
        options.wait_for_reply = false;
        break;
      case kTrace:
        options.trace = true;
        break;
      case kTimeout: {
        double seconds = 0;
        if (!absl::SimpleAtod(optarg, &seconds) || seconds <= 0) {
          *error = absl::StrCat("--timeout ", optarg, ": expected seconds > 0");
          return std::nullopt;
        }
        options.timeout = absl::Seconds(seconds);
        break;
      }
      case ':':
        *error = absl::StrCat(argv[optind - 1], " needs a value");
        return std::nullopt;
      default:
        *error = absl::StrCat("unknown argument ", argv[optind - 1]);
        return std::nullopt;
    }
  }
  // Only "--" ends the options: the module's arguments follow it.
  if (optind < argc) {
    if (strcmp(argv[optind - 1], "--") != 0) {
      *error =
          absl::StrCat("unexpected argument ", argv[optind], " (module arguments go after --)");
      return std::nullopt;
    }
    options.module_args.assign(argv + optind, argv + argc);
  }
  int sources = !options.module.empty() + (options.fd >= 0) + (options.address_fd >= 0);
  if (sources != 1) {
    *error = "give exactly one of --module, --fd, --address-fd";
    return std::nullopt;
  }
  return options;
}

// Prints one received message: its text and its descriptors.
void PrintReply(const std::string& data, imc::ReceivedMessage& message) {
  std::cout << "< " << data << (message.data_truncated ? " [truncated]" : "") << "\n";
  for (imc::IncomingDescriptor& d : message.descriptors) {
    std::cout << "< [" << imc::DescriptorKindName(d.kind);
    if (d.kind == imc::DescriptorKind::kHostIo) {
      char target[4096];
      std::string link = absl::StrCat("/proc/self/fd/", d.fd.get());
      ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      if (n > 0) std::cout << " " << std::string(target, static_cast<size_t>(n));
    } else if (d.kind == imc::DescriptorKind::kSharedMemory) {
      struct stat st;
      if (fstat(d.fd.get(), &st) == 0) {
        std::cout << " " << st.st_size << " bytes";
        void* view =
            mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, d.fd.get(), 0);
        if (view != MAP_FAILED) {
          std::cout << ": \"" << static_cast<const char*>(view) << "\"";
          munmap(view, static_cast<size_t>(st.st_size));
        }
      }
    }
    std::cout << "]\n";
  }
  std::cout.flush();
}

class Session {
 public:
  Session(imc::ConnectedSocket connection, const ClientOptions& options)
      : connection_(std::move(connection)), options_(options) {}

  // Sends `data` with `descriptors` and, unless --no-wait, prints the reply.
  absl::Status Exchange(const std::string& data,
                        std::vector<imc::OutgoingDescriptor> descriptors = {}) {
    iovec out = {const_cast<char*>(data.data()), data.size()};
    imc::WaitOptions wait;
    wait.deadline = absl::Now() + options_.timeout;
    absl::Status sent = connection_.Send({{&out, 1}, descriptors}, wait);
    if (!sent.ok()) return sent;
    if (!options_.wait_for_reply) return absl::OkStatus();
    std::string buffer(imc::kMaxUserBytes, '\0');
    iovec in = {buffer.data(), buffer.size()};
    absl::StatusOr<imc::ReceivedMessage> reply =
        connection_.Receive({&in, 1}, imc::kMaxDescriptors, wait);
    if (!reply.ok()) return reply.status();
    buffer.resize(reply->bytes);
    PrintReply(buffer, *reply);
    return absl::OkStatus();
  }

  // Runs one input line; returns false for /quit.
  absl::StatusOr<bool> Line(const std::string& line) {
    if (line == "/quit") return false;
    if (absl::StartsWith(line, "/fd ")) {
      std::string path(absl::StripPrefix(line, "/fd "));
      base::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) return base::ErrnoStatus(errno, absl::StrCat("open ", path));
      absl::Status done =
          Exchange(absl::StrCat("fd ", path), {{imc::DescriptorKind::kHostIo, fd.get()}});
      if (!done.ok()) return done;
      return true;
    }
    if (absl::StartsWith(line, "/shm ")) {
      std::string text(absl::StripPrefix(line, "/shm "));
      absl::StatusOr<imc::SharedMemory> memory = imc::SharedMemory::Create(64 * 1024);
      if (!memory.ok()) return memory.status();
      if (pwrite(memory->fd(), text.c_str(), text.size() + 1, 0) < 0) {
        return base::ErrnoStatus(errno, "write shared memory");
      }
      absl::Status done = Exchange("shm", {{imc::DescriptorKind::kSharedMemory, memory->fd()}});
      if (!done.ok()) return done;
      return true;
    }
    if (absl::StartsWith(line, "/file ")) {
      absl::Status done = SendFile(std::string(absl::StripPrefix(line, "/file ")));
      if (!done.ok()) return done;
      return true;
    }
    absl::Status done = Exchange(line);
    if (!done.ok()) return done;
    return true;
  }

  absl::Status SendFile(const std::string& path) {
    base::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return base::ErrnoStatus(errno, absl::StrCat("open ", path));
    std::string data(imc::kMaxUserBytes + 1, '\0');
    size_t size = 0;
    for (;;) {
      ssize_t n = read(fd.get(), data.data() + size, data.size() - size);
      if (n < 0) return base::ErrnoStatus(errno, absl::StrCat("read ", path));
      if (n == 0 || (size += static_cast<size_t>(n)) == data.size()) break;
    }
    if (size > imc::kMaxUserBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than one message (", imc::kMaxUserBytes, " bytes)"));
    }
    data.resize(size);
    return Exchange(data);
  }

 private:
  imc::ConnectedSocket connection_;
  const ClientOptions& options_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  std::optional<ClientOptions> options = ParseArgs(argc, argv, &error);
  if (!options.has_value()) {
    std::cerr << "imc_client: " << error << "\nTry 'imc_client --help'.\n";
    return 2;
  }
  const absl::Time deadline = absl::Now() + options->timeout;

  std::optional<launcher::Module> module;
  absl::StatusOr<imc::ConnectedSocket> connection = absl::UnknownError("no connection");
  if (!options->module.empty()) {
    launcher::LaunchOptions launch;
    launch.sel_ldr_path = options->sel_ldr;
    launch.module_path = options->module;
    launch.args = options->module_args;
    launch.stdout_mode = launcher::Output::kForward;
    launch.stderr_mode = launcher::Output::kForward;
    launch.trace = options->trace;
    absl::StatusOr<launcher::Module> launched = launcher::Module::Launch(std::move(launch));
    if (!launched.ok()) return Fail(std::string(launched.status().message()));
    module = std::move(*launched);
    connection = module->Connect(deadline);
  } else if (options->address_fd >= 0) {
    imc::SocketAddress address = imc::SocketAddress::Adopt(base::UniqueFd(options->address_fd));
    imc::ConnectOptions connect;
    connect.wait_for_accept = true;
    connect.wait.deadline = deadline;
    connection = address.Connect(connect);
  } else {
    connection = imc::ConnectedSocket::FromHostSocket(base::UniqueFd(options->fd));
  }
  if (!connection.ok()) {
    std::string why(connection.status().message());
    if (module.has_value()) {
      // A module that ended before it accepted says why better than the refusal does.
      absl::StatusOr<launcher::ModuleExit> exit = module->Wait(absl::Now() + absl::Seconds(1));
      if (exit.ok() && !exit->ToStatus().ok()) why = std::string(exit->ToStatus().message());
    }
    return Fail(absl::StrCat("cannot connect: ", why));
  }

  const bool interactive = isatty(STDIN_FILENO);
  int status = 0;
  {
    Session session(*std::move(connection), *options);
    for (const std::string& path : options->send_files) {
      absl::Status sent = session.SendFile(path);
      if (!sent.ok()) return Fail(std::string(sent.message()));
    }
    std::string line;
    for (;;) {
      if (interactive) std::cout << "> " << std::flush;
      if (!std::getline(std::cin, line)) break;
      absl::StatusOr<bool> more = session.Line(line);
      if (!more.ok()) {
        status = Fail(std::string(more.status().message()));
        break;
      }
      if (!*more) break;
    }
  }  // Closing the connection lets an echo module finish.
  if (module.has_value()) {
    // Nobody else holds the module's address: a server that ends when it can no longer be
    // reached ends now. One that would run on is stopped.
    module->CloseAddress();
    absl::StatusOr<launcher::ModuleExit> exit = module->Wait(absl::Now() + options->timeout);
    if (!exit.ok()) {
      (void)module->Kill();
      exit = module->Wait(absl::InfiniteFuture());
      if (!exit.ok()) return Fail(std::string(exit.status().message()));
      std::cerr << "imc_client: stopped the module (it was still running)\n";
      return status;
    }
    if (exit->status != 0) {
      return Fail(std::string(exit->ToStatus().message()));
    }
  }
  return status;
}
