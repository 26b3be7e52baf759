#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "worker/sync/clock.hpp"

namespace common::logging {
class Logger;
}

namespace worker::sync {

/// Where a long run stands, as it tells the reporter.
struct Progress {
  std::string phase;           ///< "users", "organizations", "memberships"
  std::int64_t pages = 0;      ///< pages fetched in this phase
  std::int64_t entities = 0;   ///< entities taken in this phase
  std::int64_t expected = -1;  ///< the source's count for the phase, -1 when unknown
  std::int64_t published = 0;  ///< events acknowledged, whole run
  std::string detail;          ///< e.g. "1200 memberships", shown after the counts
};

/// Receives progress often; decides itself how often to show it.
class ProgressReporter {
 public:
  virtual ~ProgressReporter() = default;
  virtual void update(const Progress& progress) = 0;
  /// The phase ended: show its final state once.
  virtual void finish_phase(const Progress& progress) = 0;
};

/// Rate (entities per second over the phase so far) and time left for `expected`. Pure.
struct ProgressRates {
  double per_second = 0;
  std::optional<std::chrono::seconds> left;
};
ProgressRates rates_of(const Progress& progress, std::chrono::steady_clock::duration elapsed);

/// One line of progress for people: "users  page 12  6000/10000  250/s  ~16s left". Pure.
std::string progress_line(const Progress& progress, std::chrono::steady_clock::duration elapsed);

/// On a terminal, redraws one status line at most five times a second; otherwise
/// writes a structured log line every `log_interval`. Used from one thread.
class ConsoleProgressReporter : public ProgressReporter {
 public:
  ConsoleProgressReporter(std::FILE* terminal, common::logging::Logger& logger, Clock& clock,
                          std::chrono::milliseconds log_interval);
  void update(const Progress& progress) override;
  void finish_phase(const Progress& progress) override;

 private:
  void show(const Progress& progress, bool final);

  std::FILE* terminal_;  ///< null: not a terminal, log lines instead
  common::logging::Logger& logger_;
  Clock& clock_;
  std::chrono::milliseconds interval_;
  std::string phase_;
  Clock::TimePoint phase_started_{};
  Clock::TimePoint last_shown_{};
};

}  // namespace worker::sync
