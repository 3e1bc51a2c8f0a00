// A module's descriptor table: small integers naming Descriptor objects.
//
// New descriptors take the lowest free slot of NACL_ABI_DESCRIPTOR_TABLE_SIZE. The table owns
// one reference per slot; a call holds its own reference (from Get) for its duration, so a
// descriptor closed meanwhile lives until the call ends. Closing a descriptor's last slot
// ends the calls blocked on it (with EBADF). The lock is held only to look up or change
// slots, never during a call.
#ifndef SYSCALLS_DESCRIPTOR_TABLE_H_
#define SYSCALLS_DESCRIPTOR_TABLE_H_

#include <stddef.h>
#include <stdint.h>

#include <bitset>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "imc/bound_socket.h"
#include "syscalls/descriptor.h"
#include "syscalls/memory_budget.h"
#include "syscalls/nacl_abi.h"

namespace syscalls {

class MountedDirectory;

class DescriptorTable {
 public:
  static constexpr int kSize = NACL_ABI_DESCRIPTOR_TABLE_SIZE;

  // `bound_socket_options` apply to every bound socket the module makes (the loader's -X
  // service socket and imc_makeboundsock): they cap its pending connection requests.
  // `shared_memory_limit`: the bytes of shared memory objects the module's descriptors may
  // hold (see MemoryBudget).
  explicit DescriptorTable(const imc::BoundSocketOptions& bound_socket_options = {},
                           uint64_t shared_memory_limit = UINT64_MAX)
      : bound_socket_options_(bound_socket_options),
        shared_memory_budget_(std::make_shared<MemoryBudget>(shared_memory_limit)) {}
  DescriptorTable(const DescriptorTable&) = delete;
  DescriptorTable& operator=(const DescriptorTable&) = delete;
  ~DescriptorTable() { CloseAll(); }

  // Each slot also holds its descriptor flags (fcntl's FD_CLOEXEC): a slot's own, not its
  // descriptor's, and cleared whenever the slot changes. The module has no exec, so they are
  // only stored and reported.

  // Puts `descriptor` in the lowest free slot with descriptor flags `slot_flags`. Returns the
  // slot or -NACL_ABI_EMFILE.
  int Install(DescriptorRef descriptor, int slot_flags = 0);
  // Puts `descriptor` in slot `d`, closing what was there. Returns d or -NACL_ABI_EINVAL.
  int InstallAt(int d, DescriptorRef descriptor);
  // Returns the descriptor in slot `d`, or null if `d` is not open.
  DescriptorRef Get(int d) const;
  // Returns 0, or -NACL_ABI_EBADF if `d` is not open.
  int Close(int d);
  // Returns a new slot naming the same descriptor, -NACL_ABI_EBADF or -NACL_ABI_EMFILE.
  int Dup(int d);
  // Makes `new_d` name the descriptor of `d` (closing what `new_d` named). Returns new_d,
  // -NACL_ABI_EBADF if `d` is not open, -NACL_ABI_EINVAL if `new_d` is out of range.
  int Dup2(int d, int new_d, int slot_flags = 0);
  // fcntl F_DUPFD: the lowest free slot at or above `min_d` names the descriptor of `d`, with
  // `slot_flags`. Returns it, -NACL_ABI_EBADF, -NACL_ABI_EINVAL if `min_d` is out of range,
  // or -NACL_ABI_EMFILE.
  int DupAtLeast(int d, int min_d, int slot_flags);
  // fcntl F_GETFD / F_SETFD: slot `d`'s descriptor flags; -NACL_ABI_EBADF if it is not open.
  int SlotFlags(int d) const;
  int SetSlotFlags(int d, int slot_flags);
  // Closes every slot.
  void CloseAll();
  // The number of open slots.
  size_t OpenCount() const;
  // Numbers at which the module's own process holds a host fd placed there by
  // ModuleControl::PlaceFd. NotePlaced records one; IsPlaced tells; ForgetPlaced clears it
  // and returns whether it was set.
  void NotePlaced(int d);
  bool IsPlaced(int d) const;
  bool ForgetPlaced(int d);
  // The direct data path (docs/performance.md): if slot `d` still holds `descriptor`, which
  // has a DirectFd, and that socket is not yet placed at `d`, calls `place` with its host fd
  // (which puts it at number d in the module's process) and records it as placed. Under the
  // table's lock, so that a slot closed or replaced meanwhile never gets the old socket back
  // at its number.
  void PlaceDirect(int d, const Descriptor& descriptor, absl::FunctionRef<bool(int fd)> place);
  // Forgets that slot `d`'s socket was placed at `d` by PlaceDirect (with the slot unchanged
  // since); returns whether it was.
  bool ForgetDirect(int d);

  // What the module's shared memory objects are charged to.
  const std::shared_ptr<MemoryBudget>& shared_memory_budget() const {
    return shared_memory_budget_;
  }
  // What the module's bound sockets are made with (fixed at construction).
  const imc::BoundSocketOptions& bound_socket_options() const { return bound_socket_options_; }
  // The host directory that is the module's root (sel_ldr -m), or null: path calls then
  // answer EACCES. Set once by the loader before the module runs.
  void set_mounted_directory(std::shared_ptr<const MountedDirectory> directory) {
    mounted_directory_ = std::move(directory);
  }
  const MountedDirectory* mounted_directory() const { return mounted_directory_.get(); }

 private:
  // Replaces slot `d` (which must be in range); returns what it held. Requires mu_.
  DescriptorRef SwapLocked(int d, DescriptorRef descriptor);
  int InstallLocked(DescriptorRef descriptor, int min_d = 0);
  bool OpenLocked(int d) const {
    return d >= 0 && static_cast<size_t>(d) < slots_.size() &&
           slots_[static_cast<size_t>(d)] != nullptr;
  }

  const imc::BoundSocketOptions bound_socket_options_;
  const std::shared_ptr<MemoryBudget> shared_memory_budget_;
  std::shared_ptr<const MountedDirectory> mounted_directory_;
  mutable std::mutex mu_;
  std::vector<DescriptorRef> slots_;  // Grows on demand up to kSize.
  std::bitset<kSize> placed_;
  std::bitset<kSize> direct_;    // Cleared whenever the slot changes (SwapLocked).
  std::vector<int> slot_flags_;  // Same size as slots_.
  size_t open_ = 0;
  int lowest_free_hint_ = 0;  // No free slot below it.
};

}  // namespace syscalls

#endif  // SYSCALLS_DESCRIPTOR_TABLE_H_
