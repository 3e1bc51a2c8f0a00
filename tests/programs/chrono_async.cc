// A C++ program using std::chrono clocks, std::this_thread::sleep_for and sleep_until,
// std::condition_variable::wait_for (timing out, and woken by another thread), std::async
// (a new thread and deferred) and std::future::wait_for. It prints only what is the same in
// every run.
#include <chrono>
#include <condition_variable>
#include <future>
#include <iostream>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const char* YesNo(bool condition) { return condition ? "yes" : "no"; }

long SumTo(long n) {
  std::vector<long> values(static_cast<size_t>(n));
  std::iota(values.begin(), values.end(), 1);
  return std::accumulate(values.begin(), values.end(), 0L);
}

void Clocks() {
  const auto wall = std::chrono::system_clock::now();
  std::cout << "system_clock after 2020: "
            << YesNo(
                   std::chrono::duration_cast<std::chrono::hours>(wall.time_since_epoch()).count() >
                   50 * 365 * 24)
            << '\n';
  const Clock::time_point a = Clock::now();
  const Clock::time_point b = Clock::now();
  std::cout << "steady_clock is steady: " << YesNo(Clock::is_steady) << ", monotonic "
            << YesNo(b >= a) << '\n';
  std::cout << "high_resolution_clock runs: "
            << YesNo(std::chrono::high_resolution_clock::now().time_since_epoch().count() > 0)
            << '\n';
}

void Sleeps() {
  Clock::time_point start = Clock::now();
  std::this_thread::sleep_for(milliseconds(20));
  std::cout << "sleep_for 20 ms: long enough " << YesNo(Clock::now() - start >= milliseconds(20))
            << '\n';
  const Clock::time_point until = Clock::now() + milliseconds(15);
  std::this_thread::sleep_until(until);
  std::cout << "sleep_until: after the deadline " << YesNo(Clock::now() >= until) << '\n';
}

void ConditionVariables() {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  {
    std::unique_lock<std::mutex> lock(mu);
    Clock::time_point start = Clock::now();
    // A spurious wake is allowed: wait again until wait_for reports the timeout.
    int timeouts = 0;
    while (Clock::now() - start < milliseconds(20)) {
      if (cv.wait_for(lock, milliseconds(20)) == std::cv_status::timeout) ++timeouts;
    }
    std::cout << "wait_for with no notify: timed out " << YesNo(timeouts >= 1) << '\n';
    bool predicate = cv.wait_for(lock, milliseconds(10), [&ready] { return ready; });
    std::cout << "wait_for predicate never true: " << YesNo(predicate) << '\n';
  }
  std::thread notifier([&] {
    std::this_thread::sleep_for(milliseconds(10));
    std::lock_guard<std::mutex> lock(mu);
    ready = true;
    cv.notify_one();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    bool predicate = cv.wait_for(lock, std::chrono::seconds(10), [&ready] { return ready; });
    std::cout << "wait_for woken by another thread: " << YesNo(predicate) << '\n';
  }
  notifier.join();
  std::timed_mutex timed;
  timed.lock();
  std::thread contender([&timed] {
    bool got = timed.try_lock_for(milliseconds(10));
    std::cout << "try_lock_for a held mutex: " << YesNo(got) << '\n';
  });
  contender.join();
  timed.unlock();
}

void Async() {
  std::vector<std::future<long>> sums;
  for (long n : {10L, 100L, 1000L, 10000L}) {
    sums.push_back(std::async(std::launch::async, SumTo, n));
  }
  for (std::future<long>& sum : sums) std::cout << "async sum: " << sum.get() << '\n';
  std::future<long> deferred = std::async(std::launch::deferred, SumTo, 5);
  std::cout << "deferred wait_for: "
            << (deferred.wait_for(milliseconds(0)) == std::future_status::deferred ? "deferred"
                                                                                   : "other")
            << ", value " << deferred.get() << '\n';
  std::promise<int> promise;
  std::future<int> pending = promise.get_future();
  std::cout << "wait_for an unset promise: "
            << (pending.wait_for(milliseconds(10)) == std::future_status::timeout ? "timeout"
                                                                                  : "other")
            << '\n';
  std::thread setter([&promise] {
    std::this_thread::sleep_for(milliseconds(5));
    promise.set_value(7);
  });
  std::cout << "wait_for a promise set by a thread: "
            << (pending.wait_for(std::chrono::seconds(10)) == std::future_status::ready ? "ready"
                                                                                        : "other")
            << ", value " << pending.get() << '\n';
  setter.join();
  std::future<void> thrower =
      std::async(std::launch::async, [] { throw std::runtime_error("from the async thread"); });
  try {
    thrower.get();
    std::cout << "exception through a future: none\n";
  } catch (const std::runtime_error& error) {
    std::cout << "exception through a future: " << error.what() << '\n';
  }
}

}  // namespace

int main() {
  Clocks();
  Sleeps();
  ConditionVariables();
  Async();
  std::cout << "hardware_concurrency >= 1: " << YesNo(std::thread::hardware_concurrency() >= 1)
            << '\n';
  return 0;
}
