// native_echo_server: the work of the echo_server module (tools/modules/echo_server.c) done
// by a plain process with the imc library, the baseline of sandbox_bench's density rows.
//
// It starts as `sel_ldr -X 3 -- echo_server.nexe` does: it makes a bound socket (with the
// imc library's default queue, as sel_ldr's default), sends its SocketAddress over the
// ConnectedSocket at fd 3 and closes that. Then it serves as echo_server does: it accepts one
// connection at a time and sends every message back, bytes and descriptors, until the peer
// closes; it keeps no copy of the address, so it exits 0 once every other copy is gone.
#include <errno.h>
#include <stdio.h>
#include <sys/uio.h>

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/errno_status.h"
#include "base/unique_fd.h"
#include "imc/imc.h"

namespace {

constexpr int kBootstrapFd = 3;

char buffer[imc::kMaxUserBytes];

int Fail(const char* what, const absl::Status& status) {
  fprintf(stderr, "native_echo_server: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

// Echoes messages on `connection` until the peer closes: 0, else 1.
int Serve(const imc::ConnectedSocket& connection) {
  for (;;) {
    iovec in = {buffer, sizeof(buffer)};
    absl::StatusOr<imc::ReceivedMessage> message =
        connection.Receive({&in, 1}, imc::kMaxDescriptors);
    if (!message.ok()) {
      if (base::ErrnoOf(message.status()) == EPIPE) return 0;  // The peer closed.
      return Fail("receive", message.status());
    }
    std::vector<imc::OutgoingDescriptor> descriptors;
    for (const imc::IncomingDescriptor& descriptor : message->descriptors) {
      descriptors.push_back({descriptor.kind, descriptor.fd.get(), descriptor.access});
    }
    iovec out = {buffer, message->bytes};
    imc::OutgoingMessage reply;
    reply.data = {&out, 1};
    reply.descriptors = descriptors;
    absl::Status sent = connection.Send(reply);
    if (!sent.ok()) {
      if (base::ErrnoOf(sent) == EPIPE) return 0;  // The peer closed before its answer.
      return Fail("send", sent);
    }
  }
}

}  // namespace

int main() {
  absl::StatusOr<imc::ConnectedSocket> bootstrap =
      imc::ConnectedSocket::FromHostSocket(base::UniqueFd(kBootstrapFd));
  if (!bootstrap.ok()) return Fail("bootstrap fd 3", bootstrap.status());
  absl::StatusOr<std::pair<imc::BoundSocket, imc::SocketAddress>> service = imc::MakeBoundSocket();
  if (!service.ok()) return Fail("make the bound socket", service.status());
  {
    imc::SocketAddress address = std::move(service->second);
    imc::OutgoingDescriptor sent_address = {imc::DescriptorKind::kSocketAddress, address.fd()};
    absl::Status sent = bootstrap->Send({{}, {&sent_address, 1}});
    if (!sent.ok()) return Fail("send the address", sent);
  }  // Its own copy of the address closes here, as echo_server closes its descriptor 4.
  bootstrap = absl::CancelledError("closed");  // As sel_ldr, it keeps no bootstrap channel.
  const imc::BoundSocket& bound = service->first;
  for (;;) {
    absl::StatusOr<imc::ConnectedSocket> connection = bound.Accept();
    if (!connection.ok()) {
      if (base::ErrnoOf(connection.status()) == EPIPE) return 0;  // Nobody can connect now.
      return Fail("accept", connection.status());
    }
    if (Serve(*connection) != 0) return 1;
  }
}
