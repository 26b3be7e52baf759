#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/kafka/kafka_client_config.hpp"

namespace common::logging {
class Logger;
}

namespace common::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication = 1;
  Properties config;  ///< topic-level configs, e.g. retention.ms
};

/// The first offset still stored and the offset the next record will get.
struct Watermarks {
  std::int64_t low = 0;
  std::int64_t high = 0;
};

/// Topic administration through librdkafka's Admin API. Not thread-safe.
class KafkaAdmin {
 public:
  KafkaAdmin(const std::string& brokers, logging::Logger& logger);
  ~KafkaAdmin();
  /// Creates the topics that do not exist yet (translates into rd_kafka_CreateTopics);
  /// existing ones are left alone. Throws KafkaError naming the topic on failure.
  void create_topics(const std::vector<TopicSpec>& topics, std::chrono::milliseconds timeout);
  /// Partition count of `topic`, 0 when it does not exist; throws when the
  /// broker cannot be reached (rd_kafka_metadata).
  int partition_count(const std::string& topic, std::chrono::milliseconds timeout);
  /// Low and high watermark of each partition of `topic` (index = partition); empty
  /// when the topic does not exist. Throws KafkaError when the broker cannot answer
  /// (rd_kafka_query_watermark_offsets).
  std::vector<Watermarks> watermarks(const std::string& topic, std::chrono::milliseconds timeout);

 private:
  ClientContext context_;
  HandlePtr handle_;
};

/// The main topic, its retry topics and the dead-letter topic, per the event
/// contract: retention unlimited on the main and dead-letter topics (the log is
/// the replay source), no compaction.
/// max.message.bytes of the topics the project creates: 2 MiB, room for the
/// ingress's default 1 MiB body with its headers even where lz4 gains nothing
/// (Kafka's own default, 1 MiB + 12 bytes, is not). Raise it on the topics with
/// INGRESS_MAX_BODY_BYTES.
inline constexpr std::int64_t kTopicMaxMessageBytes = 2 * 1024 * 1024;

std::vector<TopicSpec> pipeline_topics(const std::string& topic, int partitions, int retry_levels);

}  // namespace common::kafka
