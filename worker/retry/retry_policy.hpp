#pragma once
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace worker::store {
class StoreError;
}

namespace worker::retry {

/// What the consumer loop does with a failure.
enum class Disposition {
  kRetryInPlace,  ///< transient (lost connection, deadlock, server restart): back off and
                  ///< re-apply the same batch, commit nothing, never dead-letter
  kRetryLater,    ///< the event failed on its own: publish to the next retry topic, commit
  kDeadLetter,    ///< malformed, or out of retry topics: publish to the dead-letter topic
};

struct RetryConfig {
  /// Delay before each retry topic is consumed: <topic>.retry.1 waits delays[0], ...
  /// Its size is the number of retry topics; empty means failures go straight to the
  /// dead-letter topic. WORKER_RETRY_DELAYS_MS.
  std::vector<std::chrono::milliseconds> topic_delays{
      std::chrono::seconds(5), std::chrono::minutes(1), std::chrono::minutes(10)};
  std::chrono::milliseconds backoff_initial{100};  ///< WORKER_BACKOFF_INITIAL_MS
  std::chrono::milliseconds backoff_max{5000};     ///< WORKER_BACKOFF_MAX_MS
};

/// Where a failed event goes next.
struct NextHop {
  int retry_level = 0;             ///< 1..N: <topic>.retry.<level>; 0: the dead-letter topic
  std::int64_t not_before_ms = 0;  ///< for retry levels: when it may be applied
};

/// Sorts failures and schedules retries. Pure: no I/O, no clock, no globals
/// (callers pass the time and the jitter). Immutable; safe to share between threads.
class RetryPolicy {
 public:
  explicit RetryPolicy(RetryConfig config);

  /// Database failures: connection loss, in-doubt commits and SQLSTATE classes 08,
  /// 40 (40001, 40P01), 53, 55P03, 57 (57P01, 57P03, 57014), 58 are transient; so are
  /// 42 and 3F (schema or privileges missing: a deployment fault, not the event's).
  /// Anything else (22 data exceptions, 23 constraints, P0 raised errors, ...) is
  /// caused by the event: kRetryLater.
  Disposition classify(const store::StoreError& error) const;
  /// Any exception: StoreError as above; everything else is transient (broker
  /// unreachable while publishing retries, ...).
  Disposition classify(std::exception_ptr error) const;

  /// Label for the retries-by-class metric: the SQLSTATE class ("08", "40", ...),
  /// "connection", "in_doubt" or "other". Closed set.
  static std::string failure_label(std::exception_ptr error);
  /// Every label failure_label() can return (for zero-valued metric series).
  static const std::vector<std::string>& failure_labels();

  /// In-place backoff before try number `attempt` (1-based): initial * 2^(attempt-1),
  /// capped at backoff_max, then scaled by a jitter factor in [0.5, 1.0) from `jitter01`
  /// in [0, 1).
  std::chrono::milliseconds backoff(int attempt, double jitter01) const;

  /// After an event failed on its own at `attempt` (0 on the main topic): the next
  /// retry topic while one is left, else the dead-letter topic. Permanent failures
  /// (malformed) go straight to the dead-letter topic.
  NextHop next_hop(int attempt, bool permanent, std::int64_t now_ms) const;

  int retry_levels() const { return static_cast<int>(config_.topic_delays.size()); }
  const RetryConfig& config() const { return config_; }

 private:
  RetryConfig config_;
};

}  // namespace worker::retry
