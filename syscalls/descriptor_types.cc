#include "syscalls/descriptor_types.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "syscalls/descriptor_table.h"
#include "syscalls/syscall_errno.h"

namespace syscalls {
namespace {

// The readiness of host fd `fd` for `events` now (0 if none, or if poll fails).
short ReadyNow(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  for (;;) {
    int n = poll(&p, 1, 0);
    if (n >= 0) return n == 0 ? 0 : p.revents;
    if (errno != EINTR) return 0;
  }
}

// The poll state of a host fd on which the module's view is the kernel's.
Descriptor::PollState HostPollState(int fd, short requested) {
  Descriptor::PollState state;
  state.wait_fd = fd;
  state.wait_events = requested;
  state.ready = ReadyNow(fd, requested);
  return state;
}

template <typename T>
absl::StatusOr<DescriptorRef> Wrap(absl::StatusOr<T> socket) {
  if (!socket.ok()) return socket.status();
  // This module's connect or accept made it: no other process holds this end.
  return DescriptorRef(
      std::make_shared<ConnectedSocketDescriptor>(*std::move(socket), SocketOwnership::kExclusive));
}

}  // namespace

absl::StatusOr<DescriptorRef> BoundSocketDescriptor::Accept(const CallContext& context) {
  BlockingCall call(*this, context, /*nonblocking=*/false);
  const int max_skipped = call.wait().max_skipped_packets;
  for (int skipped = 0;; ++skipped) {
    if (max_skipped > 0 && skipped >= max_skipped) {
      return WouldBlockStatus("malformed requests only so far; more may be queued");
    }
    absl::StatusOr<imc::ConnectedSocket> accepted = socket_.Accept(call.wait());
    // A malformed request from a peer is dropped (its fds closed); the module waits on for
    // a real one, as it would if the peer had sent nothing.
    if (base::ErrnoOf(accepted.status()) == EPROTO) continue;
    if (!accepted.ok()) return call.Finish(accepted.status());
    return Wrap(std::move(accepted));
  }
}

Descriptor::PollState BoundSocketDescriptor::Poll(short requested) const {
  return HostPollState(socket_.fd(), static_cast<short>(requested & (POLLIN | POLLRDNORM)));
}

Descriptor::PollState SocketAddressDescriptor::Poll(short requested) const {
  return HostPollState(address_.fd(), static_cast<short>(requested & (POLLOUT | POLLWRNORM)));
}

absl::StatusOr<DescriptorRef> SocketAddressDescriptor::Connect(const CallContext& context) {
  BlockingCall call(*this, context, /*nonblocking=*/false);
  imc::ConnectOptions options;
  options.wait = call.wait();
  absl::StatusOr<imc::ConnectedSocket> connected = address_.Connect(options);
  if (!connected.ok()) return call.Finish(connected.status());
  return Wrap(std::move(connected));
}

absl::optional<imc::OutgoingDescriptor> SocketAddressDescriptor::ForTransfer() const {
  return imc::OutgoingDescriptor{imc::DescriptorKind::kSocketAddress, address_.fd()};
}

template <typename Socket, imc::DescriptorKind kKind, uint32_t kStatModeKind>
absl::StatusOr<size_t> MessageSocketDescriptor<Socket, kKind, kStatModeKind>::SendMessage(
    const CallContext& context, absl::Span<const uint8_t> data,
    absl::Span<const DescriptorRef> descriptors, bool nonblocking) {
  std::vector<imc::OutgoingDescriptor> outgoing;
  RETURN_IF_ERROR(ToOutgoing(descriptors, &outgoing));
  iovec iov = {const_cast<uint8_t*>(data.data()), data.size()};
  BlockingCall call(*this, context, nonblocking);
  RETURN_IF_ERROR(call.Finish(socket_.Send({{&iov, 1}, outgoing}, call.wait())));
  return data.size();
}

template <typename Socket, imc::DescriptorKind kKind, uint32_t kStatModeKind>
absl::StatusOr<ReceivedImcMessage>
MessageSocketDescriptor<Socket, kKind, kStatModeKind>::ReceiveMessage(const CallContext& context,
                                                                      absl::Span<uint8_t> buffer,
                                                                      size_t max_descriptors,
                                                                      bool nonblocking) {
  iovec iov = {buffer.data(), buffer.size()};
  absl::StatusOr<imc::ReceivedMessage> received;
  {
    BlockingCall call(*this, context, nonblocking);
    received = socket_.Receive({&iov, 1}, max_descriptors, call.wait());
    if (!received.ok()) return call.Finish(received.status());
  }
  ReceivedImcMessage message;
  message.bytes = received->bytes;
  message.data_truncated = received->data_truncated;
  message.descriptors_truncated = received->descriptors_truncated;
  message.descriptors.reserve(received->descriptors.size());
  for (imc::IncomingDescriptor& incoming : received->descriptors) {
    ASSIGN_OR_RETURN(DescriptorRef descriptor,
                     FromIncoming(std::move(incoming), context.table->shared_memory_budget()));
    message.descriptors.push_back(std::move(descriptor));
  }
  return message;
}

template <typename Socket, imc::DescriptorKind kKind, uint32_t kStatModeKind>
Descriptor::PollState MessageSocketDescriptor<Socket, kKind, kStatModeKind>::Poll(
    short requested) const {
  constexpr short kReadable = POLLIN | POLLRDNORM;
  PollState state = HostPollState(socket_.fd(), requested);
  // A first message that came with the connection request waits in the socket, not the fd.
  if (socket_.HasBufferedMessage()) {
    state.ready |= static_cast<short>(requested & kReadable);
    return state;
  }
  // A peer's close or an error ends a receive however many acknowledgements precede it.
  if ((state.ready & kReadable) != 0 && (state.ready & (POLLHUP | POLLERR | POLLRDHUP)) == 0 &&
      socket_.AcknowledgementFirst()) {
    // Not readable for the module yet; the host fd stays readable until a receive skips the
    // acknowledgement, so look again later instead of waiting on it.
    state.ready &= static_cast<short>(~kReadable);
    state.wait_events &= static_cast<short>(~kReadable);
    state.recheck = true;
  }
  return state;
}

template <typename Socket, imc::DescriptorKind kKind, uint32_t kStatModeKind>
absl::optional<int> MessageSocketDescriptor<Socket, kKind, kStatModeKind>::DirectFd() const {
  // A nonblocking descriptor's flag lives here, not on the host socket (see StatusFlags): a
  // direct call would wait where the module asked it not to.
  if (nonblocking() || !socket_.Settled()) return absl::nullopt;
  return socket_.fd();
}

template <typename Socket, imc::DescriptorKind kKind, uint32_t kStatModeKind>
MessageSocketDescriptor<Socket, kKind, kStatModeKind>::~MessageSocketDescriptor() {
  // The peer sees end of stream, as on the close that follows; a receive blocked on this
  // socket in the module's own process ends with it.
  if (exclusive_.load()) shutdown(socket_.fd(), SHUT_RDWR);
}

template class MessageSocketDescriptor<imc::ConnectedSocket, imc::DescriptorKind::kConnectedSocket,
                                       NACL_ABI_S_IFSOCK>;
template class MessageSocketDescriptor<imc::DataOnlySocket, imc::DescriptorKind::kDataOnlySocket,
                                       NACL_ABI_S_IFDSOCK>;

absl::optional<imc::OutgoingDescriptor> DataOnlySocketDescriptor::ForTransfer() const {
  Share();
  return imc::OutgoingDescriptor{imc::DescriptorKind::kDataOnlySocket, socket().fd()};
}

absl::StatusOr<nacl_abi_stat> SharedMemoryDescriptor::Stat() const {
  ASSIGN_OR_RETURN(nacl_abi_stat st, Descriptor::Stat());
  st.nacl_abi_st_size = static_cast<int64_t>(memory_.size());
  return st;
}

absl::optional<imc::OutgoingDescriptor> SharedMemoryDescriptor::ForTransfer() const {
  return imc::OutgoingDescriptor{imc::DescriptorKind::kSharedMemory, memory_.fd()};
}

absl::optional<MappableMemory> SharedMemoryDescriptor::Mappable() const {
  return MappableMemory{memory_.fd(), memory_.size()};
}

absl::StatusOr<DescriptorRef> SharedMemoryDescriptor::Adopt(
    imc::IncomingDescriptor incoming, const std::shared_ptr<MemoryBudget>& budget) {
  ASSIGN_OR_RETURN(imc::SharedMemory memory, imc::SharedMemory::FromFd(std::move(incoming.fd)));
  budget->Take(memory.size());
  BudgetCharge charge(budget, memory.size());
  return DescriptorRef(
      std::make_shared<SharedMemoryDescriptor>(std::move(memory), std::move(charge)));
}

HostIoDescriptor::HostIoDescriptor(base::UniqueFd fd, Access access)
    : Descriptor(imc::DescriptorKind::kHostIo),
      fd_(std::move(fd)),
      access_(imc::Intersect(access, imc::AccessOfFd(fd_.get()))) {
  struct stat st;
  if (fstat(fd_.get(), &st) != 0) {
    waiting_ = Waiting::kStream;  // Whatever it is, treating it as one that waits is safe.
  } else if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
    waiting_ = Waiting::kNever;
  } else if (S_ISSOCK(st.st_mode)) {
    waiting_ = Waiting::kSocket;
  } else {
    waiting_ = Waiting::kStream;
  }
  const int host_flags = fcntl(fd_.get(), F_GETFL);
  if (host_flags >= 0 && (host_flags & O_NONBLOCK) != 0 && waiting_ == Waiting::kStream) {
    waiting_ = Waiting::kNonblocking;
  }
  if (host_flags >= 0 && (host_flags & O_APPEND) != 0) {
    host_append_ = true;
    (void)Descriptor::SetStatusFlags(O_APPEND);
  }
}

int HostIoDescriptor::AccessMode() const {
  switch (access_) {
    case Access::kReadWrite:
      return O_RDWR;
    case Access::kWriteOnly:
      return O_WRONLY;
    default:
      return O_RDONLY;
  }
}

absl::Status HostIoDescriptor::SetStatusFlags(int flags) {
  if (host_append_ && (flags & O_APPEND) == 0) {
    return base::ErrnoStatus(EPERM, "the host fd was opened with O_APPEND");
  }
  return Descriptor::SetStatusFlags(flags);
}

Descriptor::PollState HostIoDescriptor::Poll(short requested) const {
  return HostPollState(fd_.get(), requested);
}

absl::StatusOr<int64_t> HostIoDescriptor::Seek(int64_t offset, int whence) {
  off_t result = ::lseek(fd_.get(), offset, whence);
  if (result < 0) return base::ErrnoStatus(errno, "lseek");
  return static_cast<int64_t>(result);
}

absl::StatusOr<size_t> HostIoDescriptor::ReadAt(absl::Span<uint8_t> buffer, int64_t offset) {
  if (!imc::CanRead(access_)) return base::ErrnoStatus(EBADF, "pread without a read grant");
  if (waiting_ != Waiting::kNever) return base::ErrnoStatus(ESPIPE, "pread on a stream");
  if (offset < 0) return base::ErrnoStatus(EINVAL, "pread at a negative offset");
  for (;;) {
    ssize_t n = ::pread(fd_.get(), buffer.data(), buffer.size(), offset);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return base::ErrnoStatus(errno, "pread");
  }
}

absl::StatusOr<size_t> HostIoDescriptor::WriteAt(absl::Span<const uint8_t> data, int64_t offset) {
  if (!imc::CanWrite(access_)) return base::ErrnoStatus(EBADF, "pwrite without a write grant");
  if (waiting_ != Waiting::kNever) return base::ErrnoStatus(ESPIPE, "pwrite on a stream");
  if (offset < 0) return base::ErrnoStatus(EINVAL, "pwrite at a negative offset");
  iovec iov = {const_cast<uint8_t*>(data.data()), data.size()};
  // Linux appends a pwrite on an O_APPEND descriptor whatever the offset; so do we.
  const int flags = (StatusFlags() & O_APPEND) != 0 ? RWF_APPEND : 0;
  for (;;) {
    ssize_t n = ::pwritev2(fd_.get(), &iov, 1, offset, flags);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return base::ErrnoStatus(errno, "pwrite");
  }
}

absl::Status HostIoDescriptor::Sync(const CallContext& context, bool data_only) {
  // Never on the thread that receives every module thread's calls.
  if (context.nonblocking_attempt) return WouldBlockStatus("a sync may take long");
  if ((data_only ? ::fdatasync(fd_.get()) : ::fsync(fd_.get())) != 0) {
    return base::ErrnoStatus(errno, data_only ? "fdatasync" : "fsync");
  }
  return absl::OkStatus();
}

absl::Status HostIoDescriptor::Truncate(int64_t length) {
  if (length < 0) return base::ErrnoStatus(EINVAL, "ftruncate to a negative length");
  if (!imc::CanWrite(access_) || waiting_ != Waiting::kNever) {
    return base::ErrnoStatus(EINVAL, "ftruncate needs a write grant on a file");
  }
  if (::ftruncate(fd_.get(), length) != 0) return base::ErrnoStatus(errno, "ftruncate");
  return absl::OkStatus();
}

absl::StatusOr<size_t> HostIoDescriptor::Read(const CallContext& context,
                                              absl::Span<uint8_t> buffer) {
  if (!imc::CanRead(access_)) {
    return base::ErrnoStatus(
        EBADF, absl::StrCat("read on a ", imc::HostIoAccessName(access_), " HostIo descriptor"));
  }
  // POSIX: a read of nothing returns 0 and has no other effect; it must not wait for input.
  if (buffer.empty()) return size_t{0};
  const bool socket = waiting_ == Waiting::kSocket;
  return TransferWhenReady(context, POLLIN, buffer.size(), "read",
                           [&](size_t offset, size_t size, int flags) {
                             return socket ? ::recv(fd_.get(), buffer.data() + offset, size, flags)
                                           : ::read(fd_.get(), buffer.data() + offset, size);
                           });
}

absl::StatusOr<size_t> HostIoDescriptor::Write(const CallContext& context,
                                               absl::Span<const uint8_t> data) {
  if (!imc::CanWrite(access_)) {
    return base::ErrnoStatus(
        EBADF, absl::StrCat("write on a ", imc::HostIoAccessName(access_), " HostIo descriptor"));
  }
  // Likewise a write of nothing: it must not wait for room.
  if (data.empty()) return size_t{0};
  const bool socket = waiting_ == Waiting::kSocket;
  // The module's O_APPEND on a file the host did not open with it: append per write.
  const bool append =
      waiting_ == Waiting::kNever && !host_append_ && (StatusFlags() & O_APPEND) != 0;
  // EPIPE comes back as an error; SIGPIPE is the loader's to ignore (and send() never raises it).
  return TransferWhenReady(
      context, POLLOUT, data.size(), "write", [&](size_t offset, size_t size, int flags) {
        if (append) {
          iovec iov = {const_cast<uint8_t*>(data.data() + offset), size};
          return ::pwritev2(fd_.get(), &iov, 1, -1, RWF_APPEND);
        }
        return socket ? ::send(fd_.get(), data.data() + offset, size, flags | MSG_NOSIGNAL)
                      : ::write(fd_.get(), data.data() + offset, size);
      });
}

absl::StatusOr<size_t> HostIoDescriptor::TransferWhenReady(const CallContext& context, short events,
                                                           size_t size, const char* what,
                                                           Transfer transfer) {
  BlockingCall call(*this, context, /*nonblocking=*/false);
  imc::WaitOptions wait = call.wait();
  // The module's O_NONBLOCK: answer EAGAIN rather than wait, but move what is ready.
  const bool module_nonblocking = nonblocking();
  wait.nonblocking = context.nonblocking_attempt;
  // A transfer that returns at once whatever the fd's state: MSG_DONTWAIT on a socket, or
  // an fd whose own open file description is nonblocking.
  const bool transfer_never_waits =
      waiting_ == Waiting::kSocket || waiting_ == Waiting::kNonblocking;
  const int dontwait = waiting_ == Waiting::kSocket ? MSG_DONTWAIT : 0;
  auto once = [&](int flags) -> absl::StatusOr<size_t> {
    for (;;) {
      ssize_t n = transfer(0, size, flags);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return base::ErrnoStatus(errno, what);
    }
  };
  // One transfer that may block: for files, which never wait, and for callers that cannot
  // cancel a call anyway.
  if (waiting_ == Waiting::kNever || (waiting_ == Waiting::kStream && !wait.nonblocking &&
                                      !module_nonblocking && wait.cancellation == nullptr)) {
    return once(0);
  }
  if (wait.nonblocking || (module_nonblocking && transfer_never_waits)) {
    // The loader's first try, on the thread that receives every module thread's calls, or a
    // module's nonblocking call: it must not block at all. Only a socket or a nonblocking fd
    // can promise that per call.
    if (waiting_ == Waiting::kStream) {
      // A module's nonblocking call with nothing ready has its answer now; any other moves.
      if (module_nonblocking && (ReadyNow(fd_.get(), events) & (events | POLLHUP | POLLERR)) == 0) {
        return base::ErrnoStatus(EAGAIN, absl::StrCat(what, " would block"));
      }
      return WouldBlockStatus(absl::StrCat(what, " on a pipe or device may block"));
    }
    absl::StatusOr<size_t> done = once(dontwait);
    if (!done.ok()) return call.Finish(done.status());
    return done;
  }
  // Allowed to block, off the receiving thread: wait for readiness where a close or the
  // thread's death can end the wait, then transfer only what readiness promises (a socket
  // with MSG_DONTWAIT, a nonblocking fd; a pipe has room for at least PIPE_BUF bytes when
  // poll says POLLOUT), so that the call never sits in a transfer that cancellation cannot
  // reach. A module's nonblocking call on a blocking pipe or device (kStream) only looks at
  // readiness now.
  size_t done = 0;
  for (;;) {
    absl::Status ready = absl::OkStatus();
    if (module_nonblocking) {
      if ((ReadyNow(fd_.get(), events) & (events | POLLHUP | POLLERR)) == 0) {
        ready = base::ErrnoStatus(EAGAIN, absl::StrCat(what, " would block"));
      }
    } else {
      ready = imc::WaitFor(fd_.get(), events, wait);
    }
    if (!ready.ok()) {
      if (done > 0) return done;
      return call.Finish(ready);
    }
    size_t chunk = size - done;
    if (waiting_ == Waiting::kStream && events == POLLOUT && chunk > PIPE_BUF) chunk = PIPE_BUF;
    ssize_t n = transfer(done, chunk, dontwait);
    if (n < 0) {
      if (errno == EINTR || (errno == EAGAIN && !module_nonblocking)) continue;
      if (done > 0) return done;
      return base::ErrnoStatus(errno, what);
    }
    done += static_cast<size_t>(n);
    if (events == POLLIN || done == size) return done;
  }
}

absl::StatusOr<nacl_abi_stat> HostIoDescriptor::Stat() const { return HostFileStat(fd_.get()); }

absl::StatusOr<nacl_abi_stat> HostFileStat(int fd) {
  struct stat host;
  if (fstat(fd, &host) != 0) return base::ErrnoStatus(errno, "fstat");
  // The file's kind, size and times, but not where it lives nor whose it is: device, inode,
  // owner and device number would name host objects (as NaCl, which faked the inode).
  nacl_abi_stat st = {};
  st.nacl_abi_st_ino = NACL_ABI_FAKE_INODE_NUM;
  st.nacl_abi_st_uid = static_cast<uint32_t>(-1);
  st.nacl_abi_st_gid = static_cast<uint32_t>(-1);
  st.nacl_abi_st_mode = host.st_mode;
  st.nacl_abi_st_nlink = static_cast<uint32_t>(host.st_nlink);
  st.nacl_abi_st_size = host.st_size;
  st.nacl_abi_st_blksize = static_cast<int32_t>(host.st_blksize);
  st.nacl_abi_st_blocks = static_cast<int32_t>(host.st_blocks);
  st.nacl_abi_st_atime = host.st_atim.tv_sec;
  st.nacl_abi_st_atimensec = host.st_atim.tv_nsec;
  st.nacl_abi_st_mtime = host.st_mtim.tv_sec;
  st.nacl_abi_st_mtimensec = host.st_mtim.tv_nsec;
  st.nacl_abi_st_ctime = host.st_ctim.tv_sec;
  st.nacl_abi_st_ctimensec = host.st_ctim.tv_nsec;
  return st;
}

absl::optional<imc::OutgoingDescriptor> HostIoDescriptor::ForTransfer() const {
  return imc::OutgoingDescriptor{imc::DescriptorKind::kHostIo, fd_.get(), access_};
}

absl::StatusOr<DescriptorRef> SocketAddressDescriptor::Adopt(imc::IncomingDescriptor incoming,
                                                             const std::shared_ptr<MemoryBudget>&) {
  return DescriptorRef(
      std::make_shared<SocketAddressDescriptor>(imc::SocketAddress::Adopt(std::move(incoming.fd))));
}

absl::StatusOr<DescriptorRef> DataOnlySocketDescriptor::Adopt(
    imc::IncomingDescriptor incoming, const std::shared_ptr<MemoryBudget>&) {
  return DescriptorRef(std::make_shared<DataOnlySocketDescriptor>(
      imc::DataOnlySocket::Adopt(std::move(incoming.fd))));
}

absl::StatusOr<DescriptorRef> HostIoDescriptor::Adopt(imc::IncomingDescriptor incoming,
                                                      const std::shared_ptr<MemoryBudget>&) {
  // The access the sender granted, never more than the fd's open mode allows.
  return DescriptorRef(std::make_shared<HostIoDescriptor>(std::move(incoming.fd), incoming.access));
}

int HostIoDescriptor::IoErrnoOf(const absl::Status& status) const {
  if (base::ErrnoOf(status) == EPIPE) return EPIPE;
  return Descriptor::IoErrnoOf(status);
}

namespace {

// The classes of the kinds that travel, by kind: how a received descriptor becomes a module
// descriptor (NaCl's internalize table).
using AdoptFunction = absl::StatusOr<DescriptorRef> (*)(imc::IncomingDescriptor,
                                                        const std::shared_ptr<MemoryBudget>&);
struct Adopter {
  imc::DescriptorKind kind;
  AdoptFunction adopt;
};
constexpr Adopter kAdopters[] = {
    {imc::DescriptorKind::kSocketAddress, &SocketAddressDescriptor::Adopt},
    {imc::DescriptorKind::kDataOnlySocket, &DataOnlySocketDescriptor::Adopt},
    {imc::DescriptorKind::kSharedMemory, &SharedMemoryDescriptor::Adopt},
    {imc::DescriptorKind::kHostIo, &HostIoDescriptor::Adopt},
};

}  // namespace

absl::StatusOr<DescriptorRef> FromIncoming(imc::IncomingDescriptor incoming,
                                           const std::shared_ptr<MemoryBudget>& budget) {
  if (incoming.kind == imc::DescriptorKind::kInvalid) return DescriptorRef();
  for (const Adopter& adopter : kAdopters) {
    if (adopter.kind == incoming.kind) return adopter.adopt(std::move(incoming), budget);
  }
  return base::ErrnoStatus(EPROTO, "unknown descriptor kind");
}

absl::Status ToOutgoing(absl::Span<const DescriptorRef> descriptors,
                        std::vector<imc::OutgoingDescriptor>* out) {
  out->clear();
  out->reserve(descriptors.size());
  for (const DescriptorRef& descriptor : descriptors) {
    if (descriptor == nullptr) {
      out->push_back({imc::DescriptorKind::kInvalid, -1});
      continue;
    }
    absl::optional<imc::OutgoingDescriptor> outgoing = descriptor->ForTransfer();
    if (!outgoing.has_value()) {
      return base::ErrnoStatus(EIO, absl::StrCat("a ", imc::DescriptorKindName(descriptor->kind()),
                                                 " may not be sent in a message"));
    }
    out->push_back(*outgoing);
  }
  return absl::OkStatus();
}

}  // namespace syscalls
