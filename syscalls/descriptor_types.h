// The concrete descriptor types of ABI.md, and the conversion of received imc descriptors
// into them.
#ifndef SYSCALLS_DESCRIPTOR_TYPES_H_
#define SYSCALLS_DESCRIPTOR_TYPES_H_

#include <stddef.h>
#include <stdint.h>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "imc/bound_socket.h"
#include "imc/descriptor.h"
#include "imc/message_socket.h"
#include "imc/shared_memory.h"
#include "syscalls/descriptor.h"
#include "syscalls/memory_budget.h"

namespace syscalls {

// imc_makeboundsock's first descriptor: accept.
class BoundSocketDescriptor final : public Descriptor {
 public:
  explicit BoundSocketDescriptor(imc::BoundSocket socket)
      : Descriptor(imc::DescriptorKind::kBoundSocket), socket_(std::move(socket)) {}

  absl::StatusOr<DescriptorRef> Accept(const CallContext& context) override;
  uint32_t StatModeKind() const override { return NACL_ABI_S_IFBOUNDSOCK; }
  // Readable when a connection request (or the end of every SocketAddress) is queued; never
  // writable.
  PollState Poll(short requested) const override;

 private:
  imc::BoundSocket socket_;
};

// imc_makeboundsock's second descriptor: connect; may travel.
class SocketAddressDescriptor final : public Descriptor {
 public:
  explicit SocketAddressDescriptor(imc::SocketAddress address)
      : Descriptor(imc::DescriptorKind::kSocketAddress), address_(std::move(address)) {}

  // A received SocketAddress.
  static absl::StatusOr<DescriptorRef> Adopt(imc::IncomingDescriptor incoming,
                                             const std::shared_ptr<MemoryBudget>& budget);

  absl::StatusOr<DescriptorRef> Connect(const CallContext& context) override;
  uint32_t StatModeKind() const override { return NACL_ABI_S_IFSOCKADDR; }
  absl::optional<imc::OutgoingDescriptor> ForTransfer() const override;
  // Writable when a connection request can be queued without waiting; never readable.
  PollState Poll(short requested) const override;

 private:
  imc::SocketAddress address_;
};

// Messages with bytes and descriptors, over a socket from accept, connect or `-i`. These
// sockets do not travel, and neither do DataOnlySockets carry descriptors, so the two share
// the message path but not the rest.
//
// Ownership decides what releasing the descriptor does to a socket the module's process may
// hold for the direct data path (DirectFd): a socket the module's own connect, accept or
// socketpair made, and that never left the module, is exclusive: when the loader's last
// reference goes (its last slot closed, the calls on it ended), it is shut down, which ends a
// direct receive blocked on it, as the table's close ends a trapped one.
// Any other (given with -i, received, or sent away) is only closed: someone else may hold
// it, and a blocked direct receive waits on, as in Native Client (docs/performance.md).
enum class SocketOwnership { kShared, kExclusive };

template <typename Socket, imc::DescriptorKind kKind, uint32_t kStatModeKind>
class MessageSocketDescriptor : public Descriptor {
 public:
  explicit MessageSocketDescriptor(Socket socket,
                                   SocketOwnership ownership = SocketOwnership::kShared)
      : Descriptor(kKind),
        socket_(std::move(socket)),
        exclusive_(ownership == SocketOwnership::kExclusive) {}
  ~MessageSocketDescriptor() override;

  uint32_t StatModeKind() const override { return kStatModeKind; }

  absl::StatusOr<size_t> SendMessage(const CallContext& context, absl::Span<const uint8_t> data,
                                     absl::Span<const DescriptorRef> descriptors,
                                     bool nonblocking) override;
  absl::StatusOr<ReceivedImcMessage> ReceiveMessage(const CallContext& context,
                                                    absl::Span<uint8_t> buffer,
                                                    size_t max_descriptors,
                                                    bool nonblocking) override;
  // Readable when a message, the peer's close or an error is queued: acknowledgements
  // alone (which imc_recvmsg skips) do not count. Writable when the host socket is.
  PollState Poll(short requested) const override;
  absl::optional<int> DirectFd() const override;

 protected:
  const Socket& socket() const { return socket_; }
  // The socket is about to leave the module in a message: others may hold it from now on.
  void Share() const { exclusive_.store(false); }

 private:
  Socket socket_;
  mutable std::atomic<bool> exclusive_;
};

using ConnectedSocketDescriptor =
    MessageSocketDescriptor<imc::ConnectedSocket, imc::DescriptorKind::kConnectedSocket,
                            NACL_ABI_S_IFSOCK>;

// imc_socketpair's descriptors: bytes only; may travel.
class DataOnlySocketDescriptor final
    : public MessageSocketDescriptor<imc::DataOnlySocket, imc::DescriptorKind::kDataOnlySocket,
                                     NACL_ABI_S_IFDSOCK> {
 public:
  using MessageSocketDescriptor::MessageSocketDescriptor;
  // A received DataOnlySocket.
  static absl::StatusOr<DescriptorRef> Adopt(imc::IncomingDescriptor incoming,
                                             const std::shared_ptr<MemoryBudget>& budget);
  absl::optional<imc::OutgoingDescriptor> ForTransfer() const override;
};

// imc_mem_obj_create: mmap, fstat; may travel.
class SharedMemoryDescriptor final : public Descriptor {
 public:
  // `charge`: the object's size, taken from the module's budget while this exists.
  SharedMemoryDescriptor(imc::SharedMemory memory, BudgetCharge charge)
      : Descriptor(imc::DescriptorKind::kSharedMemory),
        memory_(std::move(memory)),
        charge_(std::move(charge)) {}

  // A received shared memory object, charged to `budget` (beyond its limit if need be: the
  // object exists already).
  static absl::StatusOr<DescriptorRef> Adopt(imc::IncomingDescriptor incoming,
                                             const std::shared_ptr<MemoryBudget>& budget);

  absl::StatusOr<nacl_abi_stat> Stat() const override;
  uint32_t StatModeKind() const override { return NACL_ABI_S_IFSHM; }
  absl::optional<imc::OutgoingDescriptor> ForTransfer() const override;
  absl::optional<MappableMemory> Mappable() const override;

 private:
  imc::SharedMemory memory_;
  BudgetCharge charge_;
};

// A host fd for plain I/O: stdio, `-h/-r/-w`; may travel, and takes its access along (a
// read-only grant arrives read-only wherever it is sent).
class HostIoDescriptor final : public Descriptor {
 public:
  using Access = imc::HostIoAccess;

  // A descriptor that grants `access` on `fd`, as far as the fd's open mode allows.
  HostIoDescriptor(base::UniqueFd fd, Access access);

  // A received HostIo descriptor, with the access its sender granted.
  static absl::StatusOr<DescriptorRef> Adopt(imc::IncomingDescriptor incoming,
                                             const std::shared_ptr<MemoryBudget>& budget);

  // The access a host fd's open flags allow.
  static Access AccessOf(int fd) { return imc::AccessOfFd(fd); }

  absl::StatusOr<size_t> Read(const CallContext& context, absl::Span<uint8_t> buffer) override;
  absl::StatusOr<size_t> Write(const CallContext& context, absl::Span<const uint8_t> data) override;
  absl::StatusOr<nacl_abi_stat> Stat() const override;
  absl::optional<imc::OutgoingDescriptor> ForTransfer() const override;
  // A host fd's errno as it is: a pipe without readers is EPIPE, as NaCl's host descriptors
  // answered, not a closed IMC peer.
  int IoErrnoOf(const absl::Status& status) const override;

  // The file calls act on the host fd, as far as the grant allows (pread and pwrite only on
  // files: ESPIPE elsewhere; pwrite EBADF and ftruncate EINVAL without a write grant, as
  // Linux for an fd not open for writing).
  absl::StatusOr<int64_t> Seek(int64_t offset, int whence) override;
  absl::StatusOr<size_t> ReadAt(absl::Span<uint8_t> buffer, int64_t offset) override;
  absl::StatusOr<size_t> WriteAt(absl::Span<const uint8_t> data, int64_t offset) override;
  // On the loader's attempt: a WouldBlockStatus (a sync may take long).
  absl::Status Sync(const CallContext& context, bool data_only) override;
  absl::Status Truncate(int64_t length) override;
  // O_RDONLY, O_WRONLY or O_RDWR from the grant.
  int AccessMode() const override;
  // O_APPEND is honoured on files (each write appends, with RWF_APPEND, without setting
  // O_APPEND on the shared host fd); a host fd opened with O_APPEND keeps it (EPERM).
  absl::Status SetStatusFlags(int flags) override;
  // The host fd's own readiness.
  PollState Poll(short requested) const override;

  int fd() const { return fd_.get(); }
  Access access() const { return access_; }

 private:
  // How a transfer on the host fd can wait, decided once from the fd's type. The fd keeps its
  // own blocking mode: its open file description may be shared with the host (sel_ldr's
  // stdout is the embedder's), so O_NONBLOCK is never set on it.
  enum class Waiting {
    // A regular file or block device: a transfer never waits for a peer.
    kNever,
    // A socket: MSG_DONTWAIT makes one transfer nonblocking without touching the fd.
    kSocket,
    // A pipe, FIFO, terminal or other device: no transfer is surely nonblocking (poll's answer
    // is stale once another holder of the fd reads or writes), so a nonblocking attempt only
    // says EAGAIN, and the blocking path moves at most PIPE_BUF bytes per readiness.
    kStream,
    // A pipe or device whose open file description is itself nonblocking (the loader's own
    // pipe() ends, or a grant the host made nonblocking): a transfer never waits; the
    // blocking path waits for readiness and tries again on EAGAIN.
    kNonblocking,
  };

  // Moves at most `size` bytes between the fd and the buffer at `offset` bytes into the
  // caller's; `socket_flags` for send/recv. Returns the syscall's result.
  using Transfer = absl::FunctionRef<ssize_t(size_t offset, size_t size, int socket_flags)>;

  // Runs `transfer` of `size` bytes in the way `waiting_` allows (see Waiting), once the fd is
  // ready for `events`. A read returns what one transfer got; a write goes on until all of
  // `size` is written, or returns the bytes written so far when it fails or is cancelled.
  absl::StatusOr<size_t> TransferWhenReady(const CallContext& context, short events, size_t size,
                                           const char* what, Transfer transfer);

  base::UniqueFd fd_;
  Access access_;
  Waiting waiting_;
  // The host fd itself was opened with O_APPEND: every write appends whatever the module sets.
  bool host_append_ = false;
};

// The NaCl stat of host fd `fd`: its kind, permissions, size and times, with NaCl's fake
// inode, device 0 and owner -1 (nothing that names a host object). Errors: fstat's.
absl::StatusOr<nacl_abi_stat> HostFileStat(int fd);

// Turns a received imc descriptor into a module descriptor (null for the invalid marker).
// A received shared memory object is charged to `budget` (beyond its limit if need be: the
// object exists already).
absl::StatusOr<DescriptorRef> FromIncoming(imc::IncomingDescriptor incoming,
                                           const std::shared_ptr<MemoryBudget>& budget);

// Turns module descriptors (null: the invalid marker) into what imc sends. EIO if one may
// not travel.
absl::Status ToOutgoing(absl::Span<const DescriptorRef> descriptors,
                        std::vector<imc::OutgoingDescriptor>* out);

}  // namespace syscalls

#endif  // SYSCALLS_DESCRIPTOR_TYPES_H_
