#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace common::kafka {

struct Header {
  std::string name;
  std::string value;
};

/// Finds the first header named `name`.
inline const Header* find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

/// A record to produce. The producer copies key, value and headers.
struct OutgoingRecord {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<Header> headers;
  std::optional<std::int32_t> partition;  ///< unset: partitioned by key
  std::int64_t timestamp_ms = 0;          ///< 0: the producer's clock
};

/// A consumed record, copied out of librdkafka's message.
struct ConsumedRecord {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::vector<Header> headers;
  std::int64_t timestamp_ms = -1;
};

/// RD_KAFKA_OFFSET_BEGINNING: the earliest offset the partition still holds.
inline constexpr std::int64_t kOffsetBeginning = -2;

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = -1001;  ///< RD_KAFKA_OFFSET_INVALID unless set
  bool operator==(const TopicPartition&) const = default;
};

}  // namespace common::kafka
