#pragma once
// Reads a test topic from the beginning, for checking what the ingress published.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "common/logging/logger.hpp"
#include "support/test_env.hpp"

namespace ingress_test {

/// Creates `topic` with `partitions` partitions if needed, with the record size
/// limit of the topics the project creates.
inline void create_topic(const std::string& brokers, const std::string& topic,
                         common::logging::Logger& logger, int partitions = 1) {
  common::kafka::KafkaAdmin admin(brokers, logger);
  admin.create_topics(
      {{topic,
        partitions,
        1,
        {{"max.message.bytes", std::to_string(common::kafka::kTopicMaxMessageBytes)}}}},
      std::chrono::seconds(20));
}

/// All records of partition 0..partitions-1 of `topic` from the start, polled until
/// `done(records)` holds or `timeout` passes.
inline std::vector<common::kafka::ConsumedRecord> read_topic(
    const std::string& brokers, const std::string& topic, common::logging::Logger& logger,
    const std::function<bool(const std::vector<common::kafka::ConsumedRecord>&)>& done,
    std::chrono::milliseconds timeout = std::chrono::seconds(30), int partitions = 1) {
  common::kafka::KafkaConsumer consumer({brokers, test_support::unique_name("reader")}, logger);
  std::vector<common::kafka::TopicPartition> assignment;
  for (int p = 0; p < partitions; ++p)
    assignment.push_back({topic, p, -2});  // beginning
  consumer.assign(assignment);
  std::vector<common::kafka::ConsumedRecord> records;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(records) && std::chrono::steady_clock::now() < deadline) {
    if (auto record = consumer.poll(std::chrono::milliseconds(200))) {
      records.push_back(std::move(*record));
    }
  }
  consumer.close();
  return records;
}

inline std::string header_of(const common::kafka::ConsumedRecord& record, std::string_view name) {
  const auto* h = common::kafka::find_header(record.headers, name);
  return h ? h->value : std::string("<none>");
}

}  // namespace ingress_test
