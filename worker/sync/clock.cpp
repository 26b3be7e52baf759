#include "worker/sync/clock.hpp"

#include <thread>

#include "common/process/stop_signal.hpp"

namespace worker::sync {

Clock::TimePoint SystemClock::now() {
  return std::chrono::steady_clock::now();
}

std::int64_t SystemClock::wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool SystemClock::sleep_until(TimePoint deadline) {
  auto left = deadline - now();
  if (left <= TimePoint::duration::zero()) return !stop_requested();
  if (stop_ == nullptr) {
    std::this_thread::sleep_until(deadline);
    return true;
  }
  // Loop and round up so a sleep never ends before the deadline (Retry-After is a promise).
  while (left > TimePoint::duration::zero()) {
    if (stop_->wait_for(std::chrono::ceil<std::chrono::milliseconds>(left))) return false;
    left = deadline - now();
  }
  return true;
}

bool SystemClock::stop_requested() {
  return stop_ != nullptr && stop_->stop_requested();
}

}  // namespace worker::sync
