#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/kafka/kafka_record.hpp"
#include "worker/apply/apply_plan.hpp"

namespace prometheus {
class Registry;
}

namespace worker::observe {

/// The worker's Prometheus metrics (prometheus-cpp stays in this file's .cpp),
/// named clerk_mirror_worker_*:
///   events_total{type,outcome}            type: the nine mirrored types, or "other"
///   batch_size_events                     histogram of events per transaction
///   apply_duration_seconds                histogram of one batch's transaction
///   end_to_end_delay_seconds              histogram of commit time minus event timestamp
///   db_retries_total{class}               in-place retries by SQLSTATE class
///   retry_published_total{level}          copies published to <topic>.retry.<level>
///   dead_letters_total{error_class}       copies published to <topic>.dlq
///   fenced_batches_total                  batches (partly) refused by the offset fence
///   skipped_records_total                 records between a stored offset and the next
///                                         batch, never applied (a gap: retention?)
///   rebalances_total{kind}                assigned | revoked
///   consumer_lag_messages{topic,partition}
///   ready                                 1 once started, 0 while a batch fails (retried
///                                         in place) until it commits
/// Registers its families on the given registry, which must outlive it.
/// Thread-safe (prometheus-cpp metrics are atomic; lag updates take a lock).
class WorkerMetrics {
 public:
  explicit WorkerMetrics(prometheus::Registry& registry);
  ~WorkerMetrics();
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  void event(std::string_view type, apply::Outcome outcome, std::int64_t count = 1);
  void batch(std::size_t events, std::chrono::duration<double> apply_time);
  void end_to_end_delay(double seconds);
  void db_retry(const std::string& failure_class);
  void retry_published(int level);
  void dead_lettered(const std::string& error_class);
  void fenced_batch();
  void skipped_records(std::int64_t count);
  void rebalance(bool assigned);
  void lag(const std::vector<std::pair<common::kafka::TopicPartition, std::int64_t>>& lag);
  void ready(bool is_ready);
  /// Creates the failure series at zero (retry levels 1..`retry_levels`, every
  /// dead-letter error class and database failure class), so that the first failure
  /// is an increase that rate() and increase() see.
  void zero_failure_series(int retry_levels);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace worker::observe
