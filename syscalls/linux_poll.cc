#include "syscalls/linux_poll.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <vector>

#include "absl/time/time.h"
#include "syscalls/descriptor.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/untrusted_memory.h"

namespace syscalls {
namespace {

// How often a wait looks again at IMC sockets whose host fd is readable with only
// acknowledgements queued (see Descriptor::PollState::recheck).
constexpr absl::Duration kRecheckInterval = absl::Milliseconds(10);

// The kernel's sigset_t, the only size ppoll and pselect6 take.
constexpr uint64_t kKernelSigsetSize = 8;

// The events a module may ask for; POLLHUP, POLLERR and POLLNVAL are always reported.
constexpr short kAskable =
    POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP;

struct Entry {
  int d;
  short events;
  DescriptorRef descriptor;  // Held for the whole call; null if `d` was not open.
  short revents = 0;
};

// Unwatches every descriptor of a call when it ends; resets the thread's cancellation if a
// close fired it, or every later wait of the thread would end at once.
class CloseWatches {
 public:
  CloseWatches(const std::vector<Entry>& entries, const imc::Cancellation* cancellation)
      : cancellation_(cancellation) {
    if (cancellation_ == nullptr) return;
    for (const Entry& entry : entries) {
      if (entry.descriptor == nullptr) continue;
      if (std::find(watched_.begin(), watched_.end(), entry.descriptor) != watched_.end()) {
        continue;
      }
      entry.descriptor->WatchClose(cancellation_);
      watched_.push_back(entry.descriptor);
    }
  }
  CloseWatches(const CloseWatches&) = delete;
  CloseWatches& operator=(const CloseWatches&) = delete;
  ~CloseWatches() {
    bool closed = false;
    for (const DescriptorRef& descriptor : watched_) {
      descriptor->UnwatchClose(cancellation_);
      closed = closed || descriptor->closed();
    }
    if (closed) cancellation_->Reset();
  }

  // True if one of the watched descriptors was closed.
  bool AnyClosed() const {
    for (const DescriptorRef& descriptor : watched_) {
      if (descriptor->closed()) return true;
    }
    return false;
  }

 private:
  const imc::Cancellation* cancellation_;
  std::vector<DescriptorRef> watched_;
};

// Sets every entry's revents from its descriptor's readiness now; returns how many have any,
// and what to wait on until they may change.
int Scan(const CallContext& context, std::vector<Entry>* entries, std::vector<pollfd>* waits,
         bool* recheck) {
  waits->clear();
  *recheck = false;
  int ready = 0;
  for (Entry& entry : *entries) {
    entry.revents = 0;
    if (entry.d < 0) continue;
    if (entry.descriptor == nullptr || context.table->Get(entry.d) != entry.descriptor) {
      entry.revents = POLLNVAL;
      ++ready;
      continue;
    }
    Descriptor::PollState state = entry.descriptor->Poll(entry.events);
    entry.revents = static_cast<short>(state.ready & (entry.events | POLLHUP | POLLERR | POLLNVAL));
    if (entry.revents != 0) ++ready;
    if (state.wait_fd >= 0) waits->push_back({state.wait_fd, state.wait_events, 0});
    *recheck = *recheck || state.recheck;
  }
  return ready;
}

// The common part of the four calls: fills the entries' revents, waiting until one has any
// or `deadline` passes. Returns the count of ready entries (0 on timeout) or a negated errno.
int64_t PollEntries(const CallContext& context, std::vector<Entry>* entries, absl::Time deadline) {
  std::vector<pollfd> waits;
  bool recheck = false;
  int ready = Scan(context, entries, &waits, &recheck);
  if (ready > 0 || deadline <= absl::Now()) return ready;
  // Waiting: never on the thread that receives every module thread's calls.
  if (context.nonblocking_attempt) return kWouldBlock;
  const imc::Cancellation* cancellation = context.cancellation;
  CloseWatches watches(*entries, cancellation);
  for (;;) {
    if (cancellation != nullptr) waits.push_back({cancellation->fd(), POLLIN, 0});
    absl::Time wake = deadline;
    if (recheck) wake = std::min(wake, absl::Now() + kRecheckInterval);
    int timeout_ms = -1;
    if (wake != absl::InfiniteFuture()) {
      absl::Duration left = std::max(wake - absl::Now(), absl::ZeroDuration());
      timeout_ms = static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), 24 * 3600 * 1000));
    }
    int n = ::poll(waits.data(), waits.size(), timeout_ms);
    if (n < 0 && errno != EINTR) return -errno;
    if (cancellation != nullptr && n > 0 && waits.back().revents != 0) {
      // Closing a descriptor of the call ends it with the closed entries as POLLNVAL; any
      // other cancellation (the thread or the module is going) ends it with EINTR.
      if (!watches.AnyClosed()) return -EINTR;
      return Scan(context, entries, &waits, &recheck);
    }
    ready = Scan(context, entries, &waits, &recheck);
    if (ready > 0 || absl::Now() >= deadline) return ready;
  }
}

// Reads a timespec / timeval timeout; false if it is invalid (EINVAL).
bool DeadlineOf(const timespec& ts, absl::Time* deadline) {
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return false;
  *deadline = absl::Now() + absl::DurationFromTimespec(ts);
  return true;
}

// Linux writes the time left back into the caller's timeout (errors ignored, as Linux does).
void WriteBackTimespec(const CallContext& context, uint64_t address, absl::Time deadline) {
  timespec left = absl::ToTimespec(std::max(deadline - absl::Now(), absl::ZeroDuration()));
  (void)context.memory->Write(address, &left, sizeof(left));
}

int64_t PollCall(const CallContext& context, uint64_t fds_address, uint64_t count,
                 absl::Time deadline, uint64_t timespec_address) {
  if (count > static_cast<uint64_t>(DescriptorTable::kSize)) return -EINVAL;
  std::vector<pollfd> fds(count);
  if (count > 0 && !context.memory->Read(fds_address, fds.data(), count * sizeof(pollfd))) {
    return -EFAULT;
  }
  std::vector<Entry> entries;
  entries.reserve(count);
  for (const pollfd& p : fds) {
    entries.push_back({p.fd, static_cast<short>(p.events & kAskable),
                       p.fd >= 0 ? context.table->Get(p.fd) : nullptr});
  }
  int64_t result = PollEntries(context, &entries, deadline);
  if (result < 0) return result;
  for (size_t i = 0; i < count; ++i) fds[i].revents = entries[i].revents;
  if (count > 0 && !context.memory->Write(fds_address, fds.data(), count * sizeof(pollfd))) {
    return -EFAULT;
  }
  if (timespec_address != 0) WriteBackTimespec(context, timespec_address, deadline);
  return result;
}

// Checks a signal mask argument of `size` bytes at `address`; 0 or a negated errno.
int64_t CheckSigmask(const CallContext& context, uint64_t address, uint64_t size) {
  if (address == 0) return 0;
  if (size != kKernelSigsetSize) return -EINVAL;
  uint64_t mask;
  if (!context.memory->Read(address, &mask, sizeof(mask))) return -EFAULT;
  return 0;
}

constexpr short kSelectIn = POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR;
constexpr short kSelectOut = POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR;
constexpr short kSelectEx = POLLPRI;

int64_t SelectCall(const CallContext& context, int nfds, const uint64_t set_addresses[3],
                   absl::Time deadline, uint64_t timeout_address, bool as_timeval) {
  if (nfds < 0) return -EINVAL;
  nfds = std::min(nfds, DescriptorTable::kSize);
  const size_t words = (static_cast<size_t>(nfds) + 63) / 64;
  std::vector<uint64_t> sets[3];
  for (int k = 0; k < 3; ++k) {
    sets[k].assign(words, 0);
    if (set_addresses[k] == 0 || words == 0) continue;
    if (!context.memory->Read(set_addresses[k], sets[k].data(), words * 8)) return -EFAULT;
  }
  auto is_set = [&](int k, int d) {
    return (sets[k][static_cast<size_t>(d) / 64] >> (d % 64)) & 1;
  };
  std::vector<Entry> entries;
  for (int d = 0; d < nfds; ++d) {
    short events = 0;
    if (is_set(0, d)) events |= POLLIN | POLLRDNORM;
    if (is_set(1, d)) events |= POLLOUT | POLLWRNORM;
    if (is_set(2, d)) events |= POLLPRI;
    if (events == 0) continue;
    DescriptorRef descriptor = context.table->Get(d);
    if (descriptor == nullptr) return -EBADF;
    entries.push_back({d, events, std::move(descriptor)});
  }
  int64_t result = PollEntries(context, &entries, deadline);
  if (result < 0) return result;
  std::vector<uint64_t> out[3];
  for (int k = 0; k < 3; ++k) out[k].assign(words, 0);
  int64_t count = 0;
  for (const Entry& entry : entries) {
    if ((entry.revents & POLLNVAL) != 0) return -EBADF;  // Closed during the call.
    const short masks[3] = {kSelectIn, kSelectOut, kSelectEx};
    for (int k = 0; k < 3; ++k) {
      if (is_set(k, entry.d) && (entry.revents & masks[k]) != 0) {
        out[k][static_cast<size_t>(entry.d) / 64] |= uint64_t{1} << (entry.d % 64);
        ++count;
      }
    }
  }
  for (int k = 0; k < 3; ++k) {
    if (set_addresses[k] == 0 || words == 0) continue;
    if (!context.memory->Write(set_addresses[k], out[k].data(), words * 8)) return -EFAULT;
  }
  if (timeout_address != 0) {
    if (as_timeval) {
      timeval left = absl::ToTimeval(std::max(deadline - absl::Now(), absl::ZeroDuration()));
      (void)context.memory->Write(timeout_address, &left, sizeof(left));
    } else {
      WriteBackTimespec(context, timeout_address, deadline);
    }
  }
  return count;
}

}  // namespace

int64_t LinuxPoll(const CallContext& context, const SyscallArgs& args) {
  const int timeout_ms = IntArg(args.arg[2]);
  const absl::Time deadline =
      timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
  return PollCall(context, args.arg[0], static_cast<uint32_t>(args.arg[1]), deadline, 0);
}

int64_t LinuxPpoll(const CallContext& context, const SyscallArgs& args) {
  absl::Time deadline = absl::InfiniteFuture();
  if (args.arg[2] != 0) {
    timespec ts;
    if (!context.memory->Read(args.arg[2], &ts, sizeof(ts))) return -EFAULT;
    if (!DeadlineOf(ts, &deadline)) return -EINVAL;
  }
  if (int64_t error = CheckSigmask(context, args.arg[3], args.arg[4])) return error;
  return PollCall(context, args.arg[0], static_cast<uint32_t>(args.arg[1]), deadline, args.arg[2]);
}

int64_t LinuxSelect(const CallContext& context, const SyscallArgs& args) {
  absl::Time deadline = absl::InfiniteFuture();
  if (args.arg[4] != 0) {
    timeval tv;
    if (!context.memory->Read(args.arg[4], &tv, sizeof(tv))) return -EFAULT;
    if (tv.tv_sec < 0 || tv.tv_usec < 0) return -EINVAL;
    // Linux takes microseconds beyond a second as they are.
    deadline = absl::Now() + absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
  }
  const uint64_t sets[3] = {args.arg[1], args.arg[2], args.arg[3]};
  return SelectCall(context, IntArg(args.arg[0]), sets, deadline, args.arg[4], /*as_timeval=*/true);
}

int64_t LinuxPselect6(const CallContext& context, const SyscallArgs& args) {
  absl::Time deadline = absl::InfiniteFuture();
  if (args.arg[4] != 0) {
    timespec ts;
    if (!context.memory->Read(args.arg[4], &ts, sizeof(ts))) return -EFAULT;
    if (!DeadlineOf(ts, &deadline)) return -EINVAL;
  }
  // The sixth argument points at {const sigset_t *mask; size_t size}.
  if (args.arg[5] != 0) {
    uint64_t mask_and_size[2];
    if (!context.memory->Read(args.arg[5], mask_and_size, sizeof(mask_and_size))) return -EFAULT;
    if (int64_t error = CheckSigmask(context, mask_and_size[0], mask_and_size[1])) return error;
  }
  const uint64_t sets[3] = {args.arg[1], args.arg[2], args.arg[3]};
  return SelectCall(context, IntArg(args.arg[0]), sets, deadline, args.arg[4],
                    /*as_timeval=*/false);
}

}  // namespace syscalls
