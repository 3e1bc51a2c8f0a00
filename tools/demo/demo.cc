// demo: what sel_ldr does, in one run. Launches the echo module through the launcher API,
// connects through its service address, exchanges messages, passes a descriptor through the
// module and back, shows that a module cannot open a file, and prints timings.
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "imc/imc.h"
#include "tools/launcher/launcher.h"
#include "tools/runfiles/runfiles.h"

namespace {

std::string Micros(absl::Duration d) {
  return absl::StrFormat("%.1f us", absl::ToDoubleMicroseconds(d));
}

int Fail(const std::string& step, const absl::Status& status) {
  printf("FAILED: %s: %s\n", step.c_str(), std::string(status.message()).c_str());
  return 1;
}

// One round trip of `text` through `connection`; returns the reply's text.
absl::StatusOr<std::string> RoundTrip(const imc::ConnectedSocket& connection,
                                      const std::string& text) {
  iovec out = {const_cast<char*>(text.data()), text.size()};
  absl::Status sent = connection.Send({{&out, 1}, {}});
  if (!sent.ok()) return sent;
  char buffer[4096];
  iovec in = {buffer, sizeof(buffer)};
  absl::StatusOr<imc::ReceivedMessage> reply = connection.Receive({&in, 1}, 0);
  if (!reply.ok()) return reply.status();
  return std::string(buffer, reply->bytes);
}

// Step 4: our pipe's write end through the module and back, as a HostIo descriptor; then
// writes through what came back and reads it from our pipe.
absl::Status DescriptorRoundTrip(const imc::ConnectedSocket& connection) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  imc::OutgoingDescriptor sent = {imc::DescriptorKind::kHostIo, pipe_fds[1]};
  iovec note = {const_cast<char*>("a pipe"), 6};
  const absl::Time start = absl::Now();
  absl::Status send_status = connection.Send({{&note, 1}, {&sent, 1}});
  if (!send_status.ok()) return send_status;
  char buffer[64];
  iovec in = {buffer, sizeof(buffer)};
  absl::StatusOr<imc::ReceivedMessage> back = connection.Receive({&in, 1}, 1);
  if (!back.ok()) return back.status();
  if (back->descriptors.size() != 1) {
    return absl::InternalError("no descriptor came back");
  }
  absl::Duration descriptor_time = absl::Now() - start;
  const char kWords[] = "written through the returned descriptor";
  (void)!write(back->descriptors[0].fd.get(), kWords, sizeof(kWords));
  char got[sizeof(kWords)] = {};
  (void)!read(pipe_fds[0], got, sizeof(got));
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  printf(
      "4. sent our pipe's write end to the module as a %s descriptor; it came back in %s\n"
      "   and writing to what came back reached our pipe: \"%s\"\n",
      imc::DescriptorKindName(back->descriptors[0].kind), Micros(descriptor_time).c_str(), got);

  return absl::OkStatus();
}

// Step 6: a module that tries to read a host file and to create one: both are refused and
// nothing appears on the host.
absl::Status ProbeFiles(const std::string& file_probe) {
  launcher::LaunchOptions probe_options;
  probe_options.module_path = file_probe;
  probe_options.stdout_mode = launcher::Output::kCapture;
  const std::string forbidden = "/tmp/sel_ldr_demo_should_not_exist";
  unlink(forbidden.c_str());
  probe_options.args = {"/etc/passwd", forbidden};
  absl::StatusOr<launcher::Module> probe = launcher::Module::Launch(std::move(probe_options));
  if (!probe.ok()) return probe.status();
  absl::StatusOr<launcher::ModuleExit> probe_exit = probe->Wait(absl::Now() + absl::Seconds(5));
  if (!probe_exit.ok()) return probe_exit.status();
  struct stat st;
  const bool created = stat(forbidden.c_str(), &st) == 0;
  printf("6. file_probe.nexe tried the file system:\n   module said:\n%s",
         probe->CapturedStdout().c_str());
  printf("   exit status %d; the file exists on the host: %s\n", probe_exit->status,
         created ? "YES (this is a bug)" : "no");
  if (created || probe_exit->status != 0 ||
      probe->CapturedStdout().find("O_CREAT) = -1 (Permission denied)") == std::string::npos) {
    return absl::InternalError("the module reached the file system");
  }

  return absl::OkStatus();
}

constexpr char kUsage[] =
    "usage: demo\n"
    "A tour of sel_ldr: launches the echo module through the launcher API, connects through\n"
    "its service address, exchanges messages, passes a descriptor through the module and\n"
    "back, shows that a module cannot open a file, and prints timings. Exits 0 if every step\n"
    "passed. Options: -h, --help: print this and exit.\n";

// Returns -1 to run the tour, else the exit status: 0 after --help, 2 on a usage error.
int ParseCommandLine(int argc, char** argv) {
  static const option kOptions[] = {{"help", no_argument, nullptr, 'h'}, {}};
  opterr = 0;
  int flag;
  while ((flag = getopt_long(argc, argv, "h", kOptions, nullptr)) != -1) {
    if (flag == 'h') {
      fputs(kUsage, stdout);
      return 0;
    }
    fprintf(stderr, "demo: unknown option %s\n%s", argv[optind - 1], kUsage);
    return 2;
  }
  if (optind < argc) {
    fprintf(stderr, "demo: unexpected argument %s\n%s", argv[optind], kUsage);
    return 2;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (int status = ParseCommandLine(argc, argv); status >= 0) return status;
  setvbuf(stdout, nullptr, _IOLBF, 0);
  printf("sel_ldr demo: an untrusted module behind capability IMC\n\n");

  // 1. Launch. sel_ldr comes from the runfiles, found by the launcher.
  absl::StatusOr<std::string> echo_server = runfiles::Runfile("tools/modules/echo_server.nexe");
  if (!echo_server.ok()) return Fail("find echo_server.nexe", echo_server.status());
  absl::StatusOr<std::string> file_probe = runfiles::Runfile("tools/demo/file_probe.nexe");
  if (!file_probe.ok()) return Fail("find file_probe.nexe", file_probe.status());
  launcher::LaunchOptions options;
  options.module_path = *echo_server;
  options.stdout_mode = launcher::Output::kCapture;
  absl::Time start = absl::Now();
  absl::StatusOr<launcher::Module> module = launcher::Module::Launch(std::move(options));
  if (!module.ok()) return Fail("launch the echo module", module.status());
  absl::Duration launch_time = absl::Now() - start;
  printf(
      "1. launched echo_server.nexe under sel_ldr (pid %d) in %s;\n"
      "   its service SocketAddress arrived over the -X bootstrap channel\n",
      module->pid(), Micros(launch_time).c_str());

  // 2. Connect through the address: the only way to reach the module.
  start = absl::Now();
  absl::StatusOr<imc::ConnectedSocket> connection = module->Connect(absl::Now() + absl::Seconds(5));
  if (!connection.ok()) return Fail("connect", connection.status());
  printf("2. connected through the SocketAddress (confirmed: the module accepted) in %s\n",
         Micros(absl::Now() - start).c_str());

  // 3. Messages.
  absl::StatusOr<std::string> reply = RoundTrip(*connection, "hello, module");
  if (!reply.ok()) return Fail("exchange a message", reply.status());
  printf("3. sent \"hello, module\", the module echoed \"%s\"\n", reply->c_str());
  std::vector<absl::Duration> times;
  for (int i = 0; i < 1000; ++i) {
    absl::Time t = absl::Now();
    reply = RoundTrip(*connection, "ping");
    if (!reply.ok() || *reply != "ping") return Fail("ping", reply.status());
    times.push_back(absl::Now() - t);
  }
  std::sort(times.begin(), times.end());
  printf("   1000 round trips of 4 bytes: median %s, 99th percentile %s\n",
         Micros(times[500]).c_str(), Micros(times[990]).c_str());

  // 4. A descriptor through the module and back.
  absl::Status descriptor = DescriptorRoundTrip(*connection);
  if (!descriptor.ok()) return Fail("pass a descriptor through the module", descriptor);

  // 5. The module serves until nobody can connect any more.
  connection = absl::CancelledError("closed by the demo");  // Destroys the socket.
  module->CloseAddress();
  absl::StatusOr<launcher::ModuleExit> exit = module->Wait(absl::Now() + absl::Seconds(5));
  if (!exit.ok()) return Fail("wait for the echo module", exit.status());
  printf(
      "5. closed the connection and our copy of the address: nobody can reach the module\n"
      "   any more, so its accept failed and it exited with status %d\n",
      exit->status);

  // 6. No files: a module that tries.
  absl::Status probed = ProbeFiles(*file_probe);
  if (!probed.ok()) return Fail("file_probe", probed);

  printf(
      "\nall steps passed (launch %s, confirmed connect, 1000 round trips, descriptor "
      "round trip, no file access)\n",
      Micros(launch_time).c_str());
  return 0;
}
