#include "worker/sync/rate_limiter.hpp"

#include <algorithm>

namespace worker::sync {

RateLimiter::RateLimiter(double per_second)
    : interval_(std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / per_second))) {}

RateLimiter::TimePoint RateLimiter::acquire(TimePoint now) {
  TimePoint slot = std::max({now, next_, hold_});
  next_ = slot + interval_;
  return slot;
}

void RateLimiter::hold_until(TimePoint until) {
  hold_ = std::max(hold_, until);
}

}  // namespace worker::sync
