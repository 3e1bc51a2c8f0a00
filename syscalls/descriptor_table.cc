#include "syscalls/descriptor_table.h"

#include <algorithm>
#include <utility>

namespace syscalls {

DescriptorRef DescriptorTable::SwapLocked(int d, DescriptorRef descriptor) {
  if (static_cast<size_t>(d) >= slots_.size()) {
    slots_.resize(static_cast<size_t>(d) + 1);
    slot_flags_.resize(slots_.size());
  }
  slot_flags_[static_cast<size_t>(d)] = 0;
  direct_.reset(static_cast<size_t>(d));
  if (descriptor != nullptr) {
    descriptor->AddSlot();
    ++open_;
  }
  DescriptorRef old = std::exchange(slots_[static_cast<size_t>(d)], std::move(descriptor));
  if (old != nullptr) {
    old->RemoveSlot();
    --open_;
    if (d < lowest_free_hint_) lowest_free_hint_ = d;
  }
  return old;
}

int DescriptorTable::InstallLocked(DescriptorRef descriptor, int min_d) {
  int d = std::max(lowest_free_hint_, min_d);
  while (static_cast<size_t>(d) < slots_.size() && slots_[static_cast<size_t>(d)] != nullptr) {
    ++d;
  }
  if (d >= kSize) return -NACL_ABI_EMFILE;
  SwapLocked(d, std::move(descriptor));
  // Every slot from the hint to d was taken, unless the search began above the hint.
  if (min_d <= lowest_free_hint_) lowest_free_hint_ = d + 1;
  return d;
}

int DescriptorTable::Install(DescriptorRef descriptor, int slot_flags) {
  std::lock_guard<std::mutex> lock(mu_);
  int d = InstallLocked(std::move(descriptor));
  if (d >= 0) slot_flags_[static_cast<size_t>(d)] = slot_flags;
  return d;
}

int DescriptorTable::DupAtLeast(int d, int min_d, int slot_flags) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!OpenLocked(d)) return -NACL_ABI_EBADF;
  if (min_d < 0 || min_d >= kSize) return -NACL_ABI_EINVAL;
  int new_d = InstallLocked(slots_[static_cast<size_t>(d)], min_d);
  if (new_d >= 0) slot_flags_[static_cast<size_t>(new_d)] = slot_flags;
  return new_d;
}

int DescriptorTable::SlotFlags(int d) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!OpenLocked(d)) return -NACL_ABI_EBADF;
  return slot_flags_[static_cast<size_t>(d)];
}

int DescriptorTable::SetSlotFlags(int d, int slot_flags) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!OpenLocked(d)) return -NACL_ABI_EBADF;
  slot_flags_[static_cast<size_t>(d)] = slot_flags;
  return 0;
}

int DescriptorTable::InstallAt(int d, DescriptorRef descriptor) {
  if (d < 0 || d >= kSize) return -NACL_ABI_EINVAL;
  DescriptorRef old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = SwapLocked(d, std::move(descriptor));
  }
  return d;  // `old` is released outside the lock.
}

DescriptorRef DescriptorTable::Get(int d) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (d < 0 || static_cast<size_t>(d) >= slots_.size()) return nullptr;
  return slots_[static_cast<size_t>(d)];
}

int DescriptorTable::Close(int d) {
  DescriptorRef old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (d < 0 || static_cast<size_t>(d) >= slots_.size() ||
        slots_[static_cast<size_t>(d)] == nullptr) {
      return -NACL_ABI_EBADF;
    }
    old = SwapLocked(d, nullptr);
  }
  return 0;  // The host object closes here, outside the lock, unless a call still holds it.
}

int DescriptorTable::Dup(int d) {
  std::lock_guard<std::mutex> lock(mu_);
  if (d < 0 || static_cast<size_t>(d) >= slots_.size() ||
      slots_[static_cast<size_t>(d)] == nullptr) {
    return -NACL_ABI_EBADF;
  }
  return InstallLocked(slots_[static_cast<size_t>(d)]);
}

int DescriptorTable::Dup2(int d, int new_d, int slot_flags) {
  DescriptorRef old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (d < 0 || static_cast<size_t>(d) >= slots_.size() ||
        slots_[static_cast<size_t>(d)] == nullptr) {
      return -NACL_ABI_EBADF;
    }
    if (new_d < 0 || new_d >= kSize) return -NACL_ABI_EINVAL;
    if (new_d == d) return new_d;
    old = SwapLocked(new_d, slots_[static_cast<size_t>(d)]);
    slot_flags_[static_cast<size_t>(new_d)] = slot_flags;
  }
  return new_d;
}

void DescriptorTable::CloseAll() {
  std::vector<DescriptorRef> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t d = 0; d < slots_.size(); ++d) {
      if (slots_[d] != nullptr) old.push_back(SwapLocked(static_cast<int>(d), nullptr));
    }
    slots_.clear();
    slot_flags_.clear();
    lowest_free_hint_ = 0;
  }
}

size_t DescriptorTable::OpenCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

void DescriptorTable::NotePlaced(int d) {
  if (d < 0 || d >= kSize) return;
  std::lock_guard<std::mutex> lock(mu_);
  placed_.set(static_cast<size_t>(d));
}

bool DescriptorTable::IsPlaced(int d) const {
  if (d < 0 || d >= kSize) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return placed_.test(static_cast<size_t>(d));
}

bool DescriptorTable::ForgetPlaced(int d) {
  if (d < 0 || d >= kSize) return false;
  std::lock_guard<std::mutex> lock(mu_);
  const bool was = placed_.test(static_cast<size_t>(d));
  placed_.reset(static_cast<size_t>(d));
  return was;
}

void DescriptorTable::PlaceDirect(int d, const Descriptor& descriptor,
                                  absl::FunctionRef<bool(int fd)> place) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!OpenLocked(d) || slots_[static_cast<size_t>(d)].get() != &descriptor ||
      direct_.test(static_cast<size_t>(d))) {
    return;
  }
  // Asked under the lock: fcntl(F_SETFL, O_NONBLOCK) sets the flag, then forgets the
  // placement under the lock (ForgetDirect), so one of the two sees the other.
  absl::optional<int> fd = descriptor.DirectFd();
  if (!fd.has_value() || !place(*fd)) return;
  placed_.set(static_cast<size_t>(d));
  direct_.set(static_cast<size_t>(d));
}

bool DescriptorTable::ForgetDirect(int d) {
  if (d < 0 || d >= kSize) return false;
  std::lock_guard<std::mutex> lock(mu_);
  const bool was = direct_.test(static_cast<size_t>(d));
  direct_.reset(static_cast<size_t>(d));
  return was;
}

}  // namespace syscalls
