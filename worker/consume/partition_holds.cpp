#include "worker/consume/partition_holds.hpp"

namespace worker::consume {

void PartitionHolds::hold(const std::string& topic, std::int32_t partition, std::int64_t at,
                          std::int64_t until_ms) {
  holds_[{topic, partition}] = {at, until_ms};
}

bool PartitionHolds::held(const std::string& topic, std::int32_t partition) const {
  return holds_.contains({topic, partition});
}

std::vector<common::kafka::TopicPartition> PartitionHolds::release_due(std::int64_t now_ms) {
  std::vector<common::kafka::TopicPartition> due;
  for (auto it = holds_.begin(); it != holds_.end();) {
    if (it->second.until_ms <= now_ms) {
      due.push_back({it->first.first, it->first.second, it->second.offset});
      it = holds_.erase(it);
    } else {
      ++it;
    }
  }
  return due;
}

std::vector<common::kafka::TopicPartition> PartitionHolds::release(
    const std::vector<common::kafka::TopicPartition>& partitions) {
  std::vector<common::kafka::TopicPartition> released;
  for (const auto& tp : partitions) {
    auto it = holds_.find({tp.topic, tp.partition});
    if (it == holds_.end()) continue;
    released.push_back({tp.topic, tp.partition, it->second.offset});
    holds_.erase(it);
  }
  return released;
}

std::vector<common::kafka::TopicPartition> PartitionHolds::partitions() const {
  std::vector<common::kafka::TopicPartition> out;
  for (const auto& [key, hold] : holds_)
    out.push_back({key.first, key.second, hold.offset});
  return out;
}

}  // namespace worker::consume
