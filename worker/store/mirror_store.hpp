#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/kafka/kafka_record.hpp"
#include "worker/apply/apply_plan.hpp"
#include "worker/apply/inbound_event.hpp"

namespace worker::store {

/// A contiguous run of one partition's records in a batch: [first_offset, next_offset).
struct PartitionRange {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t first_offset = 0;
  std::int64_t next_offset = 0;
};

/// The advisory lock that orders membership writes against user/organization
/// deletions (whose cascade must see every membership, and vice versa).
enum class CascadeLock {
  kNone,       ///< the batch writes neither memberships nor deletions of parents
  kShared,     ///< the batch writes memberships
  kExclusive,  ///< the batch deletes users or organizations
};

/// What claim() found where a partition's stored offset is not the batch's first.
struct Claim {
  /// Moved past the batch's first offset by another consumer (a zombie fence), or
  /// by our own in-doubt commit: the stored next offset to seek to.
  std::vector<common::kafka::TopicPartition> fenced;
  /// The batch starts after the stored offset: [first_offset, next_offset) are
  /// records this consumer group never applied (deleted by retention before they
  /// were consumed, or a consumer that moved on without them).
  std::vector<PartitionRange> skipped;
};

/// One database transaction of the consumer loop: claim the offsets, write the
/// effects, record the audit trail, store the offsets, commit; all or nothing
/// (design contract 7). Owned by the caller; not thread-safe. Every method throws
/// StoreError on failure; after one, only apply() leaves the transaction usable
/// (its effects are rolled back to a savepoint). Destroying it uncommitted rolls back.
class MirrorTransaction {
 public:
  virtual ~MirrorTransaction() = default;

  /// Creates missing offset rows for `ranges`, locks them (SELECT ... FOR UPDATE)
  /// and compares each stored next offset with the range's first offset.
  virtual Claim claim(const std::vector<PartitionRange>& ranges) = 0;
  /// Declares the cascade lock this transaction's writes need (decided once, from
  /// the whole batch, so that no later apply() upgrades it). apply() takes it as a
  /// transaction-scoped advisory lock right before its first deletion or membership
  /// statement: user and organization upserts run before it, unserialised.
  virtual void set_cascade_lock(CascadeLock lock) = 0;
  /// Which of `event_ids` the audit trail already holds as applied or stale.
  virtual std::unordered_set<std::string> known_event_ids(
      const std::vector<std::string>& event_ids) = 0;
  /// Writes `plan` (version-guarded upserts, soft deletes, membership cascade)
  /// inside a savepoint; returns the indexes of the events that changed a row.
  virtual std::vector<std::size_t> apply(std::span<const apply::InboundEvent> events,
                                         const apply::EffectPlan& plan) = 0;
  /// Appends one clerk.applied_events row per event (outcomes index-aligned with
  /// events) and counts ignored types in clerk.ignored_event_types.
  virtual void record(std::span<const apply::InboundEvent> events,
                      std::span<const apply::Outcome> outcomes) = 0;
  /// Stores next_offset for each range.
  virtual void store_offsets(const std::vector<PartitionRange>& ranges) = 0;
  /// Translates into COMMIT; StoreError(kInDoubt) when the outcome is unknown.
  virtual void commit() = 0;
};

/// Row counts and progress, for `clerk-mirror status` and the admin API.
struct MirrorSummary {
  struct Table {
    std::string name;
    std::int64_t rows = 0;
    std::int64_t deleted = 0;
  };
  std::vector<Table> tables;
  std::vector<std::pair<common::kafka::TopicPartition, std::string>> offsets;  ///< + group
  std::vector<std::pair<std::string, std::int64_t>> outcomes;  ///< audit rows by outcome
  std::string last_event_id;
  std::string last_applied_at;
};

/// The worker's database. Owned by main; used from the consumer loop's thread
/// only. Reconnects on the next begin() after a connection failure.
class MirrorStore {
 public:
  virtual ~MirrorStore() = default;
  virtual std::unique_ptr<MirrorTransaction> begin() = 0;
  /// Stored next offsets for `partitions`; partitions without a row come back with
  /// offset -2 (RD_KAFKA_OFFSET_BEGINNING): an empty database replays the topic.
  virtual std::vector<common::kafka::TopicPartition> load_offsets(
      const std::vector<common::kafka::TopicPartition>& partitions) = 0;
  /// Deletes at most `limit` audit rows older than `retention`; returns how many.
  virtual std::int64_t prune_audit(std::chrono::hours retention, std::int64_t limit) = 0;
};

}  // namespace worker::store
