// Linux's readiness calls, poll, ppoll, select and pselect6, over any mix of the module's
// descriptors, with Linux layouts, timeouts and errno.
//
// Readiness is each descriptor's own view (Descriptor::Poll): an IMC socket is readable when
// a message, its peer's close or an error is queued, not when only acknowledgements are (those
// are looked at again every 10 ms while the call waits); a BoundSocket when a connection
// request is queued; a SocketAddress writable when a request can be queued; a HostIo
// descriptor as its host fd; shared memory always, as a regular file.
//
// A call that would wait answers kWouldBlock on the loader's nonblocking first attempt, so that
// the loader moves it off the thread that receives every module thread's calls. It then waits
// on the host fds and the calling thread's cancellation: the module's death ends it, and so
// does closing the last slot of any descriptor it waits on (Linux would wait on). The call
// then returns at once with POLLNVAL for that entry (select and pselect6: EBADF). A slot that
// names another descriptor than when the call began also reports POLLNVAL.
//
// ppoll's and pselect6's signal masks are checked but not applied: the module's signals are
// its own, and the loader cannot swap a thread's mask for the duration of the wait.
#ifndef SYSCALLS_LINUX_POLL_H_
#define SYSCALLS_LINUX_POLL_H_

#include <stdint.h>

#include "syscalls/call_context.h"

namespace syscalls {

int64_t LinuxPoll(const CallContext& context, const SyscallArgs& args);
int64_t LinuxPpoll(const CallContext& context, const SyscallArgs& args);
int64_t LinuxSelect(const CallContext& context, const SyscallArgs& args);
int64_t LinuxPselect6(const CallContext& context, const SyscallArgs& args);

}  // namespace syscalls

#endif  // SYSCALLS_LINUX_POLL_H_
