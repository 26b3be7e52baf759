#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/kafka/kafka_record.hpp"
#include "worker/apply/apply_plan.hpp"
#include "worker/apply/inbound_event.hpp"
#include "worker/store/mirror_store.hpp"

namespace common::logging {
class Logger;
}
namespace worker::observe {
class WorkerMetrics;
class WorkerStatus;
}  // namespace worker::observe
namespace worker::retry {
class RetryPolicy;
}

namespace worker::consume {

class FailureRouter;

struct ProcessorSettings {
  std::string topic;        ///< the main topic (retry/dead-letter names derive from it)
  std::string worker_name;  ///< for the dead-letter `worker` header
  observe::WorkerStatus* status = nullptr;  ///< told of each commit and routed event, if set
};

/// What one successful process() call did.
struct BatchResult {
  std::vector<common::kafka::TopicPartition> committed;  ///< next offsets now stored
  std::array<std::int64_t, apply::kOutcomeCount> outcomes{};
};

/// Applies one batch of consumed events in one database transaction: claim the
/// partitions' offsets (fencing out a zombie), drop duplicates, write the
/// version-guarded effects (isolating events that fail on their own), publish
/// those to the retry or dead-letter topics, record the audit trail and the
/// offsets, commit. Sequences collaborators it is handed; owns none.
/// Not thread-safe: the consumer loop's thread.
class BatchProcessor {
 public:
  using Clock = std::function<std::int64_t()>;  ///< ms since the epoch

  BatchProcessor(store::MirrorStore& store, FailureRouter& router, const retry::RetryPolicy& policy,
                 observe::WorkerMetrics& metrics, common::logging::Logger& logger,
                 ProcessorSettings settings, Clock clock);

  /// Processes `events` (records in consumption order; per partition a contiguous
  /// run). A partition whose stored offset another consumer (or our own in-doubt
  /// commit) moved past the batch is fenced: its events are removed from `events`
  /// and the partition, with the stored offset to seek to, is appended to `fenced`
  /// at once. The caller seeks those whether the call then returns or throws;
  /// otherwise its consumer would go on past records that nobody applied.
  /// Throws when the batch as a whole failed transiently (StoreError,
  /// RoutingError): nothing was committed and the caller retries the remaining
  /// events after a backoff. An in-doubt commit that did land shows up on that
  /// retry as a fence at our own offsets.
  BatchResult process(std::vector<apply::InboundEvent>& events,
                      std::vector<common::kafka::TopicPartition>& fenced);

  /// [first, next) offsets per partition of `events`. Pure.
  static std::vector<store::PartitionRange> ranges_of(
      const std::vector<apply::InboundEvent>& events);

 private:
  store::MirrorStore& store_;
  FailureRouter& router_;
  const retry::RetryPolicy& policy_;
  observe::WorkerMetrics& metrics_;
  common::logging::Logger& logger_;
  ProcessorSettings settings_;
  Clock clock_;
  /// Records whose retry or dead-letter copy the broker acknowledged while their
  /// batch has not committed yet: a retry of the batch does not publish them again.
  std::set<std::tuple<std::string, std::int32_t, std::int64_t>> copied_;
};

}  // namespace worker::consume
