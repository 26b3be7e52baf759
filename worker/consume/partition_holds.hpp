#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/kafka/kafka_record.hpp"

namespace worker::consume {

/// Retry-topic partitions held back until the not-before time of their head
/// record. Bookkeeping only: the consumer loop pauses, seeks and resumes. Pure;
/// not thread-safe.
class PartitionHolds {
 public:
  /// Holds `partition` from offset `at` until `until_ms`.
  void hold(const std::string& topic, std::int32_t partition, std::int64_t at,
            std::int64_t until_ms);
  bool held(const std::string& topic, std::int32_t partition) const;
  /// Removes and returns the holds due at `now_ms` (offset = the held record).
  std::vector<common::kafka::TopicPartition> release_due(std::int64_t now_ms);
  /// Removes and returns the holds on `partitions` (revoked).
  std::vector<common::kafka::TopicPartition> release(
      const std::vector<common::kafka::TopicPartition>& partitions);
  /// Partitions currently held.
  std::vector<common::kafka::TopicPartition> partitions() const;
  bool empty() const { return holds_.empty(); }

 private:
  struct Hold {
    std::int64_t offset;
    std::int64_t until_ms;
  };
  std::map<std::pair<std::string, std::int32_t>, Hold> holds_;
};

}  // namespace worker::consume
