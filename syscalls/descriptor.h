// The module's descriptors: one class per descriptor type of ABI.md, each implementing only
// the operations it supports. Every other operation answers the documented errno from the
// defaults here, in one place.
//
// Results are absl::Status values carrying an errno; syscall_errno.h turns them into the
// errno the module sees, in either table.
#ifndef SYSCALLS_DESCRIPTOR_H_
#define SYSCALLS_DESCRIPTOR_H_

#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "imc/cancellation.h"
#include "imc/descriptor.h"
#include "syscalls/call_context.h"
#include "syscalls/nacl_abi.h"

namespace syscalls {

// What mmap maps of a descriptor: a memfd and its size.
struct MappableMemory {
  int fd;
  size_t size;
};

class Descriptor;
using DescriptorRef = std::shared_ptr<Descriptor>;

// A message received by a descriptor, its descriptors already turned into Descriptor
// objects (null for NaCl's invalid marker, -1).
struct ReceivedImcMessage {
  size_t bytes = 0;
  bool data_truncated = false;
  bool descriptors_truncated = false;
  std::vector<DescriptorRef> descriptors;
};

class Descriptor {
 public:
  // `kind`: the descriptor's kind, for names in errors (imc::DescriptorKindName).
  explicit Descriptor(imc::DescriptorKind kind) : kind_(kind) {}
  virtual ~Descriptor() = default;
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;

  imc::DescriptorKind kind() const { return kind_; }

  // imc_accept. Default: EINVAL (not a BoundSocket).
  virtual absl::StatusOr<DescriptorRef> Accept(const CallContext& context);
  // imc_connect. Default: EINVAL (not a SocketAddress).
  virtual absl::StatusOr<DescriptorRef> Connect(const CallContext& context);
  // imc_sendmsg of `data` and `descriptors` (null entries: the invalid marker). Returns the
  // bytes sent. Default: EIO (not a socket; NaCl's answer).
  virtual absl::StatusOr<size_t> SendMessage(const CallContext& context,
                                             absl::Span<const uint8_t> data,
                                             absl::Span<const DescriptorRef> descriptors,
                                             bool nonblocking);
  // imc_recvmsg into `buffer`, keeping at most `max_descriptors`. Default: EINVAL.
  virtual absl::StatusOr<ReceivedImcMessage> ReceiveMessage(const CallContext& context,
                                                            absl::Span<uint8_t> buffer,
                                                            size_t max_descriptors,
                                                            bool nonblocking);
  // read: returns the bytes read into `buffer` (0 at end of file). Default: EINVAL.
  virtual absl::StatusOr<size_t> Read(const CallContext& context, absl::Span<uint8_t> buffer);
  // write: returns the bytes written. Default: EINVAL.
  virtual absl::StatusOr<size_t> Write(const CallContext& context, absl::Span<const uint8_t> data);
  // fstat. Default: StatModeKind(), read-write for the owner, with NaCl's fake identity.
  virtual absl::StatusOr<nacl_abi_stat> Stat() const;
  // The NaCl st_mode kind (NACL_ABI_S_IF*) the default Stat() reports. Default: a regular file.
  virtual uint32_t StatModeKind() const;
  // What to send when this descriptor travels in a message; nullopt if it may not travel
  // (the caller answers EIO).
  virtual absl::optional<imc::OutgoingDescriptor> ForTransfer() const;
  // What mmap maps (a SharedMemory descriptor's memfd and size); nullopt if the descriptor
  // cannot be mapped (the caller answers ENODEV).
  virtual absl::optional<MappableMemory> Mappable() const;
  // The host socket the module's own process may send and receive descriptor-free messages
  // on (the direct data path, docs/performance.md): an IMC socket whose connection protocol
  // is settled and which the module did not make nonblocking. Default: nullopt.
  virtual absl::optional<int> DirectFd() const;
  // The NaCl errno of a failed read or write. Default: NaClErrnoOf, where EPIPE is a closed IMC
  // peer (EIO).
  virtual int IoErrnoOf(const absl::Status& status) const;
  // The host fd of a directory, the start of *at calls; nullopt if this is no directory
  // (the caller answers ENOTDIR).
  virtual absl::optional<int> DirectoryFd() const;
  // getdents64 into `buffer`: returns the bytes of linux_dirent64 records written (0 at the
  // end). Default: ENOTDIR.
  virtual absl::StatusOr<size_t> ReadEntries(absl::Span<uint8_t> buffer);

  // Linux file calls (syscalls/linux_files.h). Defaults answer what Linux answers for a
  // socket: ESPIPE for lseek / pread / pwrite, EINVAL for fsync and ftruncate.
  // lseek: returns the new offset.
  virtual absl::StatusOr<int64_t> Seek(int64_t offset, int whence);
  // pread64 / pwrite64 at `offset`, leaving the descriptor's offset alone.
  virtual absl::StatusOr<size_t> ReadAt(absl::Span<uint8_t> buffer, int64_t offset);
  virtual absl::StatusOr<size_t> WriteAt(absl::Span<const uint8_t> data, int64_t offset);
  // fsync, or fdatasync if `data_only`. A sync that may take long answers a WouldBlockStatus
  // on the loader's nonblocking attempt.
  virtual absl::Status Sync(const CallContext& context, bool data_only);
  // ftruncate.
  virtual absl::Status Truncate(int64_t length);

  // fcntl's file status flags. F_GETFL: the access mode (O_RDONLY, O_WRONLY or O_RDWR; the
  // default is O_RDWR) with the module's O_NONBLOCK and O_APPEND. These are the module's own,
  // kept here: the host fd's open file description may be shared with the embedder, so they
  // are never set on it.
  virtual int AccessMode() const;
  int StatusFlags() const { return AccessMode() | status_flags_.load(std::memory_order_relaxed); }
  // F_SETFL of O_NONBLOCK and O_APPEND (other bits are the caller's to refuse or ignore).
  // Default: stores them. Returns EPERM where the descriptor cannot honour the change.
  virtual absl::Status SetStatusFlags(int flags);
  // True if the module set O_NONBLOCK: a read, write, imc call, accept or connect that would
  // wait answers EAGAIN instead.
  bool nonblocking() const;

  // What poll sees: the events of `requested` (POLLIN, POLLOUT, POLLPRI; POLLHUP and POLLERR
  // always count) ready now, as the module would see them, and what to wait on in the kernel
  // until they may have changed.
  struct PollState {
    short ready = 0;
    // A host fd and events whose change may change `ready`; -1: none (nothing will change).
    int wait_fd = -1;
    short wait_events = 0;
    // The host fd is ready but the module's view is not (an IMC socket with only
    // acknowledgements queued): check again after a short while instead of waiting on it.
    bool recheck = false;
  };
  // Default: always readable and writable, as a regular file (shared memory, a SocketAddress).
  virtual PollState Poll(short requested) const;

  // Closing this descriptor's last slot cancels `cancellation` (at once if it is already
  // closed), until UnwatchClose. For waits that span several descriptors (poll). A watch
  // whose descriptor closed must be reset by the caller (see closed()).
  void WatchClose(const imc::Cancellation* cancellation) const;
  void UnwatchClose(const imc::Cancellation* cancellation) const;
  // True once the descriptor's last slot was closed.
  bool closed() const;

  // Table bookkeeping: a descriptor in no slot is closed, and a call blocked on it ends
  // with EBADF. Called by DescriptorTable under its lock.
  void AddSlot() { slots_.fetch_add(1, std::memory_order_relaxed); }
  void RemoveSlot();

 protected:
  // Registers a blocking call on this descriptor for its lifetime, so that closing the
  // descriptor's last slot cancels it.
  class BlockingCall {
   public:
    BlockingCall(const Descriptor& descriptor, const CallContext& context, bool nonblocking);
    BlockingCall(const BlockingCall&) = delete;
    BlockingCall& operator=(const BlockingCall&) = delete;
    ~BlockingCall();

    // How the imc operation waits.
    const imc::WaitOptions& wait() const { return wait_; }
    // Turns a cancellation caused by closing the descriptor into EBADF, and an EAGAIN of the
    // loader's attempt that the module did not ask for into a WouldBlockStatus.
    absl::Status Finish(absl::Status status) const;

   private:
    const Descriptor& descriptor_;
    const bool attempt_;             // The loader's nonblocking first attempt.
    const bool module_nonblocking_;  // The module asked not to wait (flag or O_NONBLOCK).
    imc::WaitOptions wait_;
    bool registered_ = false;
  };

 private:
  const imc::DescriptorKind kind_;
  std::atomic<int> slots_{0};
  std::atomic<int> status_flags_{0};  // O_NONBLOCK | O_APPEND set by the module.
  mutable std::mutex mu_;
  bool closed_ = false;                                    // Guarded by mu_.
  mutable std::vector<const imc::Cancellation*> waiters_;  // Guarded by mu_.
};

}  // namespace syscalls

#endif  // SYSCALLS_DESCRIPTOR_H_
