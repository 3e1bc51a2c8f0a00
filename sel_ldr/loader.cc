#include "sel_ldr/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "imc/bound_socket.h"
#include "imc/message_socket.h"
#include "sel_ldr/module_file.h"
#include "sel_ldr/sandbox.h"
#include "sel_ldr/seccomp_unotify.h"
#include "sel_ldr/supervisor.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/descriptor_types.h"
#include "syscalls/mounted_directory.h"
#include "syscalls/nacl_abi.h"

extern char** environ;

namespace sel_ldr {
namespace {

using syscalls::HostIoDescriptor;

// Takes ownership of host fd `fd` (marking it close-on-exec). sel_ldr's own stdin, stdout
// and stderr are duplicated instead: when the module closes its descriptor, or the run ends,
// the fd that sel_ldr reports on must stay open (and its number must not be reused).
absl::StatusOr<base::UniqueFd> AdoptHostFd(int fd, const std::string& flag) {
  if (fd <= STDERR_FILENO) {
    base::UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1));
    if (copy.valid()) return copy;
  } else if (fcntl(fd, F_SETFD, FD_CLOEXEC) == 0) {
    return base::UniqueFd(fd);
  }
  return absl::InvalidArgumentError(absl::StrCat(flag, ": host fd ", fd, " is not open"));
}

// The host fds the command line grants, owned by sel_ldr.
struct GrantedFds {
  std::vector<base::UniqueFd> descriptors;  // One per LoaderOptions::descriptors, in order.
  base::UniqueFd bootstrap;                 // -X D, if given.
};

// Takes ownership of every host fd the command line grants. It runs before sel_ldr opens
// anything of its own, so a grant names an fd that was open when sel_ldr started or is a
// usage error (InvalidArgument naming the flag), and no fd of sel_ldr's (the module file,
// its copies of stdio, sockets) can take a granted number. The fds above stdio are adopted
// first: adopting them opens nothing, while each copy of a granted stdio fd takes the
// lowest free number, which must not be a granted one that is not open.
absl::StatusOr<GrantedFds> AdoptGrantedFds(const LoaderOptions& options) {
  GrantedFds granted;
  granted.descriptors.resize(options.descriptors.size());
  for (bool stdio : {false, true}) {
    for (size_t i = 0; i < options.descriptors.size(); ++i) {
      const GrantedDescriptor& grant = options.descriptors[i];
      if ((grant.host_fd <= STDERR_FILENO) != stdio) continue;
      ASSIGN_OR_RETURN(granted.descriptors[i], AdoptHostFd(grant.host_fd, grant.flag));
    }
    if (options.bootstrap_fd.has_value() && (*options.bootstrap_fd <= STDERR_FILENO) == stdio) {
      ASSIGN_OR_RETURN(granted.bootstrap, AdoptHostFd(*options.bootstrap_fd,
                                                      absl::StrCat("-X ", *options.bootstrap_fd)));
    }
  }
  return granted;
}

HostIoDescriptor::Access AccessFor(GrantedDescriptor::Kind kind) {
  switch (kind) {
    case GrantedDescriptor::Kind::kReadOnly:
      return HostIoDescriptor::Access::kReadOnly;
    case GrantedDescriptor::Kind::kWriteOnly:
      return HostIoDescriptor::Access::kWriteOnly;
    default:
      return HostIoDescriptor::Access::kReadWrite;
  }
}

// Installs stdio, the granted descriptors (on the fds `granted` owns) and the -X service
// socket. Errors are usage errors (InvalidArgument) or failures to set up.
absl::Status BuildTable(const LoaderOptions& options, GrantedFds granted,
                        syscalls::DescriptorTable* table) {
  for (int stdio = 0; stdio < 3; ++stdio) {
    int fd = fcntl(stdio, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) continue;  // sel_ldr was started without it; so is the module.
    base::UniqueFd owned(fd);
    HostIoDescriptor::Access access = HostIoDescriptor::AccessOf(fd);
    table->InstallAt(stdio, std::make_shared<HostIoDescriptor>(std::move(owned), access));
  }
  for (size_t i = 0; i < options.descriptors.size(); ++i) {
    const GrantedDescriptor& grant = options.descriptors[i];
    base::UniqueFd fd = std::move(granted.descriptors[i]);
    syscalls::DescriptorRef descriptor;
    if (grant.kind == GrantedDescriptor::Kind::kImc) {
      absl::StatusOr<imc::ConnectedSocket> socket =
          imc::ConnectedSocket::FromHostSocket(std::move(fd));
      if (!socket.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(grant.flag, ": host fd ", grant.host_fd,
                                                       " is not an IMC socket (AF_UNIX "
                                                       "SOCK_SEQPACKET)"));
      }
      descriptor = std::make_shared<syscalls::ConnectedSocketDescriptor>(*std::move(socket));
    } else {
      descriptor = std::make_shared<HostIoDescriptor>(std::move(fd), AccessFor(grant.kind));
    }
    table->InstallAt(grant.module_descriptor, std::move(descriptor));
  }
  if (options.bootstrap_fd.has_value()) {
    const std::string flag = absl::StrCat("-X ", *options.bootstrap_fd);
    absl::StatusOr<imc::ConnectedSocket> bootstrap =
        imc::ConnectedSocket::FromHostSocket(std::move(granted.bootstrap));
    if (!bootstrap.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": host fd ", *options.bootstrap_fd,
                       " is not an IMC socket (one end of a socketpair(AF_UNIX, SOCK_SEQPACKET))"));
    }
    ASSIGN_OR_RETURN(auto service, imc::MakeBoundSocket(table->bound_socket_options()));
    imc::OutgoingDescriptor address = {imc::DescriptorKind::kSocketAddress, service.second.fd()};
    absl::Status sent = bootstrap->Send({{}, {&address, 1}});
    if (!sent.ok()) {
      return absl::UnavailableError(
          absl::StrCat(flag, ": cannot send the service address: ", sent.message()));
    }
    table->InstallAt(3,
                     std::make_shared<syscalls::BoundSocketDescriptor>(std::move(service.first)));
    table->InstallAt(
        4, std::make_shared<syscalls::SocketAddressDescriptor>(std::move(service.second)));
  }
  return absl::OkStatus();
}

// Host fds sel_ldr wants: one per module descriptor (a table of host objects), one eventfd
// per supervisor worker (a worker per module thread blocked in a call, as many again), and its
// own (stdio, the seccomp listener, the pidfd, fds in transit).
constexpr rlim_t kWantedFds = 2 * NACL_ABI_DESCRIPTOR_TABLE_SIZE + 256;
// Below this, a module could fill its table and leave sel_ldr no fd to serve it with.
constexpr rlim_t kMinimumFds = NACL_ABI_DESCRIPTOR_TABLE_SIZE + 128;

// Raises the soft RLIMIT_NOFILE toward kWantedFds, as far as the hard limit allows (some
// launchers start processes with a soft limit of 1024). FailedPrecondition, naming the limit,
// if the hard limit is below kMinimumFds. Short of kWantedFds, a call that finds no fd for a
// worker answers EMFILE rather than waiting.
absl::Status FitDescriptorLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return base::ErrnoStatus(errno, "getrlimit");
  if (limit.rlim_max < kMinimumFds) {
    return absl::FailedPreconditionError(
        absl::StrCat("the hard RLIMIT_NOFILE (", limit.rlim_max, ") is below the ", kMinimumFds,
                     " fds sel_ldr needs for a ", NACL_ABI_DESCRIPTOR_TABLE_SIZE,
                     "-descriptor table and its own; raise it (ulimit -Hn, prlimit --nofile)"));
  }
  const rlim_t wanted = std::min(limit.rlim_max, kWantedFds);
  if (limit.rlim_cur >= wanted) return absl::OkStatus();
  limit.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return base::ErrnoStatus(errno, "setrlimit");
  return absl::OkStatus();
}

std::vector<std::string> ModuleEnvironment(const LoaderOptions& options) {
  std::vector<std::string> env;
  if (options.pass_host_environment) {
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  }
  for (const auto& [name, value] : options.environment) {
    std::string prefix = name + "=";
    for (auto it = env.begin(); it != env.end();) {
      it = it->rfind(prefix, 0) == 0 ? env.erase(it) : it + 1;
    }
    env.push_back(prefix + value);
  }
  return env;
}

// Makes -m's directory the module's root. Errors are usage errors naming the directory.
absl::Status MountDirectory(const LoaderOptions& options, syscalls::DescriptorTable* table) {
  if (!options.mount.has_value()) {
    if (options.allow_files) {
      LOG(WARNING) << "-a gives no host file access (the whole file system cannot be "
                      "confined); use -m DIR[:ro] to make DIR the module's root";
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<const syscalls::MountedDirectory>> mounted =
      syscalls::MountedDirectory::Open(options.mount->directory, options.mount->read_only);
  if (!mounted.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("-m ", options.mount->directory,
                     ": not a directory that can be opened: ", mounted.status().message()));
  }
  table->set_mounted_directory(*std::move(mounted));
  return absl::OkStatus();
}

// How the child is confined and what it execs.
SandboxOptions SandboxOptionsFor(const LoaderOptions& options, int module_fd) {
  SandboxOptions sandbox;
  sandbox.module_fd = module_fd;
  sandbox.argv.push_back(options.module_path);
  sandbox.argv.insert(sandbox.argv.end(), options.module_args.begin(), options.module_args.end());
  sandbox.envp = ModuleEnvironment(options);
  sandbox.address_space_limit = options.address_space_limit;
  // With -q and no trace no one hears of calls that are not offered: the filter answers them.
  sandbox.policy.answer_unserved_in_filter = options.quiet && options.verbosity == 0;
  return sandbox;
}

// Says how the module ended (unless it just exited) and returns sel_ldr's exit status.
int ExitStatusOf(const ModuleOutcome& outcome) {
  switch (outcome.kind) {
    case ModuleOutcome::Kind::kExited:
      VLOG(1) << "module exited with status " << outcome.status;
      return outcome.status;
    case ModuleOutcome::Kind::kSignaled: {
      if (outcome.signal == SIGSYS) {
        // The filter kills foreign-ABI calls (int 0x80, x32 numbers) itself.
        LOG(ERROR) << "policy violation: the seccomp filter killed the module (SIGSYS): an "
                      "int 0x80 or x32 system call";
        return kExitPolicyViolation;
      }
      const char* name = sigabbrev_np(outcome.signal);
      LOG(ERROR) << "module killed by signal " << outcome.signal << " (SIG"
                 << (name != nullptr ? name : "?") << ")";
      return 128 + outcome.signal;
    }
    case ModuleOutcome::Kind::kPolicyViolation:
      LOG(ERROR) << "policy violation: " << outcome.violation;
      return kExitPolicyViolation;
    case ModuleOutcome::Kind::kStartFailed:
      LOG(ERROR) << "the module did not start: " << outcome.violation;
      return kExitModuleInvalid;
  }
  return kExitSandboxFailed;
}

}  // namespace

int RunLoader(const LoaderOptions& options) {
  absl::Status fds = FitDescriptorLimit();
  if (!fds.ok()) {
    LOG(ERROR) << "cannot run a module: " << fds.message();
    return kExitSandboxFailed;
  }
  // First of all: nothing sel_ldr opens may take a granted fd's number.
  absl::StatusOr<GrantedFds> granted = AdoptGrantedFds(options);
  if (!granted.ok()) {
    LOG(ERROR) << granted.status().message();
    return kExitUsage;
  }

  absl::StatusOr<base::UniqueFd> module = OpenModule(options.module_path);
  if (!module.ok()) {
    LOG(ERROR) << "cannot load module '" << options.module_path
               << "': " << module.status().message();
    return absl::IsNotFound(module.status()) ? kExitModuleMissing : kExitModuleInvalid;
  }

  imc::BoundSocketOptions bound_socket_options;
  bound_socket_options.max_pending = options.max_pending_connections;
  // Shared memory objects count against the module's memory limit, like its address space.
  syscalls::DescriptorTable table(bound_socket_options, options.address_space_limit);
  absl::Status built = BuildTable(options, *std::move(granted), &table);
  if (!built.ok()) {
    LOG(ERROR) << built.message();
    return absl::IsInvalidArgument(built) ? kExitUsage : kExitSandboxFailed;
  }

  absl::Status mounted = MountDirectory(options, &table);
  if (!mounted.ok()) {
    LOG(ERROR) << mounted.message();
    return kExitUsage;
  }

  absl::StatusOr<SandboxedModule> child = StartSandbox(SandboxOptionsFor(options, module->get()));
  if (!child.ok()) {
    LOG(ERROR) << "cannot start the sandbox: " << child.status().message();
    return kExitSandboxFailed;
  }
  VLOG(1) << "module " << options.module_path << " is pid " << child->pid
          << ", namespaces: " << (child->namespaces.empty() ? "none" : child->namespaces)
          << ", Landlock scope: " << (child->landlocked ? "yes" : "no");
  module->reset();  // The child has its own copy until its exec.

  SupervisorOptions supervisor_options;
  supervisor_options.trace = options.verbosity >= 1;
  supervisor_options.max_threads = options.max_threads;
  absl::StatusOr<std::unique_ptr<SeccompUnotify>> listener =
      SeccompUnotify::Create(std::move(child->listener));
  if (!listener.ok()) {
    LOG(ERROR) << "cannot serve the sandbox: " << listener.status().message();
    return kExitSandboxFailed;
  }
  Supervisor supervisor(*std::move(child), *std::move(listener), &table, supervisor_options);
  absl::StatusOr<ModuleOutcome> outcome = supervisor.Run();
  if (!outcome.ok()) {
    LOG(ERROR) << "supervisor failed: " << outcome.status().message();
    return kExitSandboxFailed;
  }
  return ExitStatusOf(*outcome);
}

}  // namespace sel_ldr
