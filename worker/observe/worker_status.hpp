#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/kafka/kafka_record.hpp"
#include "worker/apply/apply_plan.hpp"

namespace worker::observe {

/// What the admin API reports of a running worker (GET /admin/status): its
/// consumer lag, its last committed batch and event, its last failure, and the
/// outcomes counted since it started. Written by the consumer loop's thread, read
/// by the ops server's thread: every method takes one short lock. Thread-safe.
class WorkerStatus {
 public:
  /// The newest event of the last committed batch.
  struct LastEvent {
    std::string id;
    std::string type;
    std::string source;
    std::string topic;
    int partition = 0;
    std::int64_t offset = 0;
    std::int64_t committed_at_ms = 0;
  };
  /// A batch that failed (and is being retried in place), or an event that went to
  /// a retry or dead-letter topic.
  struct Failure {
    std::string scope;        ///< "batch" or "event"
    std::string error_class;  ///< SQLSTATE class label, or the dead-letter error class
    std::string message;
    std::string event_id;  ///< empty for a batch
    std::int64_t at_ms = 0;
  };
  struct Snapshot {
    std::string name;   ///< WORKER_NAME
    std::string group;  ///< the consumer group
    std::int64_t started_at_ms = 0;
    bool retrying = false;  ///< the last batch failed and is being retried in place
    std::int64_t batches_committed = 0;
    std::array<std::int64_t, apply::kOutcomeCount> outcomes{};
    std::optional<LastEvent> last_event;
    std::optional<Failure> last_error;
    std::int64_t lag_at_ms = 0;  ///< 0: not measured yet
    std::vector<std::pair<common::kafka::TopicPartition, std::int64_t>> lag;
  };

  WorkerStatus(std::string name, std::string group, std::int64_t started_at_ms);

  /// A batch committed with these outcome counts; `last` is its newest event.
  void committed(const std::array<std::int64_t, apply::kOutcomeCount>& outcomes,
                 std::optional<LastEvent> last);
  void failed(Failure failure);
  void lag(std::vector<std::pair<common::kafka::TopicPartition, std::int64_t>> per_partition,
           std::int64_t at_ms);
  Snapshot snapshot() const;

 private:
  mutable std::mutex mutex_;
  Snapshot state_;
};

/// `{"name":"..","group":"..","started_at":"<RFC 3339>",
/// "retrying":B,"batches_committed":N,"events":{"applied":N,...},
/// "last_event":{...}|null,"last_error":{...}|null,"lag":{"total":N,"measured_at":..,
/// "partitions":[{"topic","partition","lag"}]}}`. Pure.
std::string to_json(const WorkerStatus::Snapshot& snapshot);

}  // namespace worker::observe
