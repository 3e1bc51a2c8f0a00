#include "syscalls/descriptor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "syscalls/syscall_errno.h"

namespace syscalls {
namespace {

// Packets a nonblocking attempt may consume without an answer for the module (a peer's
// acknowledgements or malformed requests) before it gives up (kWouldBlock). The loader then
// moves the call off the thread that receives every module thread's calls and lets it drain
// the rest there: a peer's flood delays nobody else by more than this batch, a few dozen
// microseconds, and a real call rarely meets more than one such packet.
constexpr int kSkippedPacketsPerAttempt = 16;

absl::Status Unsupported(const Descriptor& descriptor, const char* operation) {
  return base::ErrnoStatus(
      EINVAL, absl::StrCat(operation, " on a ", imc::DescriptorKindName(descriptor.kind())));
}

}  // namespace

absl::StatusOr<DescriptorRef> Descriptor::Accept(const CallContext&) {
  return Unsupported(*this, "imc_accept");
}

absl::StatusOr<DescriptorRef> Descriptor::Connect(const CallContext&) {
  return Unsupported(*this, "imc_connect");
}

absl::StatusOr<size_t> Descriptor::SendMessage(const CallContext&, absl::Span<const uint8_t>,
                                               absl::Span<const DescriptorRef>, bool) {
  // NaCl's NaClSysImcSendmsg turns every failure of the descriptor's SendMsg but EAGAIN and
  // EMSGSIZE into EIO, so sendmsg on a descriptor that is not a socket answers EIO there
  // (recvmsg passes the EINVAL through).
  return base::ErrnoStatus(EIO, absl::StrCat("imc_sendmsg on a ", imc::DescriptorKindName(kind_)));
}

absl::StatusOr<ReceivedImcMessage> Descriptor::ReceiveMessage(const CallContext&,
                                                              absl::Span<uint8_t>, size_t, bool) {
  return Unsupported(*this, "imc_recvmsg");
}

absl::StatusOr<size_t> Descriptor::Read(const CallContext&, absl::Span<uint8_t>) {
  return Unsupported(*this, "read");
}

absl::StatusOr<size_t> Descriptor::Write(const CallContext&, absl::Span<const uint8_t>) {
  return Unsupported(*this, "write");
}

absl::StatusOr<nacl_abi_stat> Descriptor::Stat() const {
  nacl_abi_stat st = {};
  st.nacl_abi_st_ino = NACL_ABI_FAKE_INODE_NUM;
  st.nacl_abi_st_uid = static_cast<uint32_t>(-1);
  st.nacl_abi_st_gid = static_cast<uint32_t>(-1);
  st.nacl_abi_st_mode = StatModeKind() | 0600;
  st.nacl_abi_st_nlink = 1;
  st.nacl_abi_st_blksize = 4096;
  return st;
}

absl::optional<imc::OutgoingDescriptor> Descriptor::ForTransfer() const { return absl::nullopt; }

uint32_t Descriptor::StatModeKind() const { return NACL_ABI_S_IFREG; }

absl::optional<MappableMemory> Descriptor::Mappable() const { return absl::nullopt; }

absl::optional<int> Descriptor::DirectFd() const { return absl::nullopt; }

int Descriptor::IoErrnoOf(const absl::Status& status) const { return NaClErrnoOf(status); }

absl::optional<int> Descriptor::DirectoryFd() const { return absl::nullopt; }

absl::StatusOr<size_t> Descriptor::ReadEntries(absl::Span<uint8_t>) {
  return base::ErrnoStatus(ENOTDIR,
                           absl::StrCat("getdents64 on a ", imc::DescriptorKindName(kind_)));
}

absl::StatusOr<int64_t> Descriptor::Seek(int64_t, int) {
  return base::ErrnoStatus(ESPIPE, absl::StrCat("lseek on a ", imc::DescriptorKindName(kind_)));
}

absl::StatusOr<size_t> Descriptor::ReadAt(absl::Span<uint8_t>, int64_t) {
  return base::ErrnoStatus(ESPIPE, absl::StrCat("pread on a ", imc::DescriptorKindName(kind_)));
}

absl::StatusOr<size_t> Descriptor::WriteAt(absl::Span<const uint8_t>, int64_t) {
  return base::ErrnoStatus(ESPIPE, absl::StrCat("pwrite on a ", imc::DescriptorKindName(kind_)));
}

absl::Status Descriptor::Sync(const CallContext&, bool) {
  return base::ErrnoStatus(EINVAL, absl::StrCat("fsync on a ", imc::DescriptorKindName(kind_)));
}

absl::Status Descriptor::Truncate(int64_t) {
  return base::ErrnoStatus(EINVAL, absl::StrCat("ftruncate on a ", imc::DescriptorKindName(kind_)));
}

int Descriptor::AccessMode() const { return O_RDWR; }

absl::Status Descriptor::SetStatusFlags(int flags) {
  status_flags_.store(flags & (O_NONBLOCK | O_APPEND), std::memory_order_relaxed);
  return absl::OkStatus();
}

bool Descriptor::nonblocking() const {
  return (status_flags_.load(std::memory_order_relaxed) & O_NONBLOCK) != 0;
}

Descriptor::PollState Descriptor::Poll(short requested) const {
  PollState state;
  state.ready = static_cast<short>(requested & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM));
  return state;
}

void Descriptor::WatchClose(const imc::Cancellation* cancellation) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) cancellation->Cancel();
  waiters_.push_back(cancellation);
}

void Descriptor::UnwatchClose(const imc::Cancellation* cancellation) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find(waiters_.begin(), waiters_.end(), cancellation);
  if (it != waiters_.end()) waiters_.erase(it);
}

bool Descriptor::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

void Descriptor::RemoveSlot() {
  if (slots_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (const imc::Cancellation* waiter : waiters_) waiter->Cancel();
}

Descriptor::BlockingCall::BlockingCall(const Descriptor& descriptor, const CallContext& context,
                                       bool nonblocking)
    : descriptor_(descriptor),
      attempt_(context.nonblocking_attempt),
      module_nonblocking_(nonblocking || descriptor.nonblocking()) {
  nonblocking = module_nonblocking_ || attempt_;
  wait_.nonblocking = nonblocking;
  if (context.nonblocking_attempt) wait_.max_skipped_packets = kSkippedPacketsPerAttempt;
  if (nonblocking || context.cancellation == nullptr) return;
  wait_.cancellation = context.cancellation;
  std::lock_guard<std::mutex> lock(descriptor_.mu_);
  if (descriptor_.closed_) context.cancellation->Cancel();
  descriptor_.waiters_.push_back(context.cancellation);
  registered_ = true;
}

Descriptor::BlockingCall::~BlockingCall() {
  if (!registered_) return;
  std::lock_guard<std::mutex> lock(descriptor_.mu_);
  auto& waiters = descriptor_.waiters_;
  waiters.erase(std::find(waiters.begin(), waiters.end(), wait_.cancellation));
  // Closing the descriptor cancelled the calling thread's signal to end this call only; clear
  // it, or every later blocking call of the thread would end at once (EINTR).
  if (descriptor_.closed_) wait_.cancellation->Reset();
}

absl::Status Descriptor::BlockingCall::Finish(absl::Status status) const {
  const int error_number = base::ErrnoOf(status);
  // On the loader's attempt, EAGAIN is the module's own answer only if the module asked not to
  // wait and nothing more may be queued; otherwise the call must go on elsewhere.
  if (error_number == EAGAIN && attempt_ &&
      (!module_nonblocking_ || imc::IsSkippedPackets(status))) {
    return WouldBlockStatus(status.message());
  }
  if (error_number != ECANCELED) return status;
  std::lock_guard<std::mutex> lock(descriptor_.mu_);
  if (descriptor_.closed_) {
    return base::ErrnoStatus(EBADF, "the descriptor was closed during the call");
  }
  return status;
}

}  // namespace syscalls
