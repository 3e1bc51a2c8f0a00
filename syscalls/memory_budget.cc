#include "syscalls/memory_budget.h"

namespace syscalls {

bool MemoryBudget::TryTake(uint64_t bytes) {
  uint64_t used = used_.load(std::memory_order_relaxed);
  do {
    if (bytes > limit_ || used > limit_ - bytes) return false;
  } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

BudgetCharge& BudgetCharge::operator=(BudgetCharge&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::move(other.budget_);
    bytes_ = other.bytes_;
    other.bytes_ = 0;
  }
  return *this;
}

void BudgetCharge::Release() {
  if (budget_ != nullptr && bytes_ != 0) budget_->Give(bytes_);
  bytes_ = 0;
}

}  // namespace syscalls
