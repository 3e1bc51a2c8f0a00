// How much memory the objects a module holds may take: its shared memory objects count
// against its --memory-limit, so that a module that creates, fills and unmaps them cannot
// hold more memory than its address space could.
#ifndef SYSCALLS_MEMORY_BUDGET_H_
#define SYSCALLS_MEMORY_BUDGET_H_

#include <stdint.h>

#include <atomic>
#include <memory>

namespace syscalls {

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }

  // Takes `bytes` if the total stays within the limit; returns false (taking nothing)
  // otherwise.
  bool TryTake(uint64_t bytes);
  // Takes `bytes` whatever the total: for objects that exist already (received ones).
  void Take(uint64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  // Returns `bytes` taken before.
  void Give(uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

// Bytes taken from a budget, given back when this is destroyed.
class BudgetCharge {
 public:
  BudgetCharge() = default;
  // Holds `bytes` already taken from `budget`.
  BudgetCharge(std::shared_ptr<MemoryBudget> budget, uint64_t bytes)
      : budget_(std::move(budget)), bytes_(bytes) {}
  BudgetCharge(BudgetCharge&& other) noexcept
      : budget_(std::move(other.budget_)), bytes_(other.bytes_) {
    other.bytes_ = 0;
  }
  BudgetCharge& operator=(BudgetCharge&& other) noexcept;
  BudgetCharge(const BudgetCharge&) = delete;
  BudgetCharge& operator=(const BudgetCharge&) = delete;
  ~BudgetCharge() { Release(); }

 private:
  void Release();

  std::shared_ptr<MemoryBudget> budget_;
  uint64_t bytes_ = 0;
};

}  // namespace syscalls

#endif  // SYSCALLS_MEMORY_BUDGET_H_
