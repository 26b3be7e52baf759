#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/events/entity_decoder.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "worker/apply/inbound_event.hpp"
#include "worker/consume/partition_holds.hpp"

namespace common::logging {
class Logger;
}
namespace common::process {
class StopSignal;
}
namespace worker::observe {
class WorkerMetrics;
class WorkerStatus;
}  // namespace worker::observe
namespace worker::retry {
class RetryPolicy;
}
namespace worker::store {
class MirrorStore;
}

namespace worker::consume {

class BatchProcessor;

struct LoopSettings {
  std::string topic;  ///< main topic; <topic>.retry.1..retry_levels are consumed too
  int retry_levels = 0;
  std::size_t batch_max_events = 5000;
  std::chrono::milliseconds batch_max_wait{50};
  std::chrono::hours audit_retention{24 * 30};  ///< 0: keep the audit trail forever
  std::chrono::milliseconds lag_interval{5000};
  observe::WorkerStatus* status = nullptr;  ///< told of lag and failed batches, if set
};

/// The worker's consumer loop: poll -> batch -> process -> commit, on one thread.
///  - Batches are bounded by count and by time since their first record.
///  - Retry-topic records whose not-before lies ahead hold their partition (pause,
///    seek back to the record) until it is due.
///  - A batch that fails transiently is retried in place with capped, jittered
///    backoff while every partition is paused; polling goes on (for the group's
///    liveness and rebalances) and nothing is committed until it succeeds.
///  - On revocation the pending batch's records of the revoked partitions are
///    dropped (rolled back: their offsets were never stored); on assignment the
///    consumer starts at the offsets stored in PostgreSQL. If they cannot be read
///    (the database is down), the partitions are assigned paused and the loop
///    retries the read with backoff, then seeks and resumes them. The rebalance
///    callback never blocks, so the group rebalances normally during an outage.
///  - Offsets are committed to Kafka asynchronously after the database commit, for
///    lag tools only; PostgreSQL holds the truth.
/// It is the consumer's RebalanceListener: construct it first, pass it to the
/// KafkaConsumer, then run(). Not thread-safe, except ready().
class ConsumerLoop : public common::kafka::RebalanceListener {
 public:
  using Clock = std::function<std::int64_t()>;  ///< ms since the epoch

  ConsumerLoop(LoopSettings settings, store::MirrorStore& store, BatchProcessor& processor,
               const retry::RetryPolicy& policy, observe::WorkerMetrics& metrics,
               common::logging::Logger& logger, Clock clock);

  /// Subscribes and runs until `stop` is requested, then applies the pending batch
  /// once (best effort) and leaves the group. Throws on fatal consumer errors.
  void run(common::kafka::KafkaConsumer& consumer, common::process::StopSignal& stop);

  common::kafka::Assignment on_assigned(
      const std::vector<common::kafka::TopicPartition>& partitions) override;
  void on_revoked(const std::vector<common::kafka::TopicPartition>& partitions) override;

 private:
  bool collect(common::process::StopSignal& stop);
  void accept(common::kafka::ConsumedRecord record);
  void apply_pending(common::process::StopSignal& stop, bool once);
  void seek_fenced(const std::vector<common::kafka::TopicPartition>& fenced);
  void wait_polling(std::chrono::milliseconds delay, common::process::StopSignal& stop);
  void housekeeping();
  /// Reads the stored offsets of `partitions`; nullopt (logged, counted) on failure.
  std::optional<std::vector<common::kafka::TopicPartition>> load_offsets(
      const std::vector<common::kafka::TopicPartition>& partitions, int attempt);
  void start_waiting(std::int64_t now);
  bool is_waiting(const std::string& topic, std::int32_t partition) const;
  void resume_unheld();
  bool is_retry_topic(const std::string& topic) const;
  std::chrono::milliseconds jittered_backoff(int attempt);

  LoopSettings settings_;
  store::MirrorStore& store_;
  BatchProcessor& processor_;
  const retry::RetryPolicy& policy_;
  observe::WorkerMetrics& metrics_;
  common::logging::Logger& logger_;
  Clock clock_;
  common::events::EntityDecoder decoder_;
  PartitionHolds holds_;
  std::vector<apply::InboundEvent> batch_;
  std::vector<common::kafka::ConsumedRecord> deferred_;  ///< polled while retrying in place
  bool paused_all_ = false;
  common::kafka::KafkaConsumer* consumer_ = nullptr;  ///< set for the duration of run()
  std::mt19937_64 random_;
  std::int64_t next_lag_ms_ = 0;
  std::int64_t next_prune_ms_ = 0;
  /// Assigned partitions, paused, whose stored offsets could not be read yet, and
  /// the retries of that read.
  std::vector<common::kafka::TopicPartition> waiting_;
  int waiting_attempt_ = 0;
  std::int64_t next_waiting_ms_ = 0;
};

}  // namespace worker::consume
