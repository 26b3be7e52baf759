#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace common::process {

/// The one process-wide state: turns SIGINT/SIGTERM into a stop request.
/// Constructed first in main, before any other thread starts: it blocks the
/// signals in the calling thread (so threads started later inherit the mask) and
/// waits for them with sigwait on its own thread. Thread-safe.
class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  bool stop_requested() const { return stopped_.load(); }
  /// Blocks until a signal arrived or request_stop() was called.
  void wait();
  /// Waits at most `timeout`; true when stop was requested.
  bool wait_for(std::chrono::milliseconds timeout);
  /// Asks for a stop from inside the process (fatal error, tests).
  void request_stop();
  /// Runs `callback` on the signal thread when stop is requested (at most once).
  void on_stop(std::function<void()> callback);
  int signal_number() const { return signal_.load(); }

 private:
  std::atomic<bool> stopped_{false};
  std::atomic<int> signal_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> callback_;
  std::thread thread_;
};

}  // namespace common::process
