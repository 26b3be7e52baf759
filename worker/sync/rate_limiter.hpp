#pragma once
#include <chrono>

namespace worker::sync {

/// Spaces requests evenly at a configured rate and holds every request back
/// while a server-imposed pause (429 Retry-After) lasts. Pure: the caller passes
/// the time and sleeps. Not thread-safe (one API client owns it).
class RateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  /// `per_second` > 0.
  explicit RateLimiter(double per_second);
  /// Reserves the next slot and returns when it starts: never before `now`,
  /// the previous slot plus the interval, or the end of a hold.
  TimePoint acquire(TimePoint now);
  /// No request may start before `until`; holds only ever get longer.
  void hold_until(TimePoint until);
  TimePoint held_until() const { return hold_; }

 private:
  std::chrono::nanoseconds interval_;
  TimePoint next_{};
  TimePoint hold_{};
};

}  // namespace worker::sync
