#pragma once
#include <chrono>
#include <cstdint>

namespace common::process {
class StopSignal;
}

namespace worker::sync {

/// Time, and the stop request a run waits on: the two things a sync run must be
/// able to fake in tests. Implementations say whether they are thread-safe.
class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() = 0;
  /// Milliseconds since the Unix epoch (event timestamps, run start).
  virtual std::int64_t wall_ms() = 0;
  /// Sleeps until `deadline`; false when a stop was requested before it passed.
  virtual bool sleep_until(TimePoint deadline) = 0;
  virtual bool stop_requested() = 0;
};

/// The real clocks. Sleeps wake early on the process's stop signal when one is
/// given. Thread-safe.
class SystemClock : public Clock {
 public:
  explicit SystemClock(common::process::StopSignal* stop = nullptr) : stop_(stop) {}
  TimePoint now() override;
  std::int64_t wall_ms() override;
  bool sleep_until(TimePoint deadline) override;
  bool stop_requested() override;

 private:
  common::process::StopSignal* stop_;
};

}  // namespace worker::sync
