#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/kafka/kafka_client_config.hpp"
#include "common/kafka/kafka_record.hpp"

namespace common::logging {
class Logger;
}

namespace common::kafka {

/// What a RebalanceListener answers for newly owned partitions.
struct Assignment {
  /// The partitions with the offsets to start from (an offset of -1001,
  /// RD_KAFKA_OFFSET_INVALID, means the committed/reset position).
  std::vector<TopicPartition> positions;
  /// Assign them paused: the listener does not know where to start yet, and
  /// seeks and resumes them itself later, from the polling thread. The member
  /// stays in the group meanwhile and takes part in rebalances as usual.
  bool paused = false;
};

/// Told about partition ownership changes; runs on the thread calling poll().
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  /// Partitions now owned.
  virtual Assignment on_assigned(const std::vector<TopicPartition>& partitions) = 0;
  /// Partitions about to be taken away: finish or abandon their work before returning.
  virtual void on_revoked(const std::vector<TopicPartition>& partitions) = 0;
};

struct ConsumerSettings {
  std::string brokers;
  std::string group_id;
  std::string client_id = "clerk-mirror";
  std::string auto_offset_reset = "earliest";
  Properties extra;  ///< any librdkafka property, applied last
};

/// A group consumer with auto-commit off (enable.auto.commit=false,
/// enable.auto.offset.store=false): the owner decides what is committed and
/// where consumption starts. Not thread-safe: one thread polls and calls the
/// other methods. Throws KafkaError on setup failures and fatal errors.
class KafkaConsumer {
 public:
  KafkaConsumer(const ConsumerSettings& settings, logging::Logger& logger,
                RebalanceListener* listener = nullptr);
  ~KafkaConsumer();
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  /// Translates into rd_kafka_subscribe.
  void subscribe(const std::vector<std::string>& topics);
  /// Manual assignment without the group protocol (tools, tests); rd_kafka_assign.
  void assign(const std::vector<TopicPartition>& partitions);
  /// Translates into rd_kafka_consumer_poll; nullopt on timeout or a non-fatal
  /// event (partition EOF, transient broker errors, which are logged).
  std::optional<ConsumedRecord> poll(std::chrono::milliseconds timeout);
  /// Translates into rd_kafka_seek_partitions.
  void seek(const std::vector<TopicPartition>& positions, std::chrono::milliseconds timeout);
  /// Translates into rd_kafka_pause_partitions / rd_kafka_resume_partitions.
  void pause(const std::vector<TopicPartition>& partitions);
  void resume(const std::vector<TopicPartition>& partitions);
  /// Commits explicit offsets (next offset to read) asynchronously; rd_kafka_commit.
  void commit_async(const std::vector<TopicPartition>& offsets);
  /// Currently assigned partitions; rd_kafka_assignment.
  std::vector<TopicPartition> assignment() const;
  /// Leaves the group cleanly (revocation callback runs); rd_kafka_consumer_close.
  void close();
  /// Broker metadata round trip within `timeout`; for /readyz.
  bool ping(std::chrono::milliseconds timeout) const;
  /// Sum over assigned partitions of (high watermark - position); -1 if unknown.
  std::int64_t lag(std::vector<std::pair<TopicPartition, std::int64_t>>* per_partition) const;

 private:
  static void on_rebalance(rd_kafka_s* rk, int err, void* partitions, void* opaque);

  struct ConsumerContext : ClientContext {
    KafkaConsumer* consumer = nullptr;
  };
  ConsumerContext context_;
  RebalanceListener* listener_;
  HandlePtr handle_;
  bool closed_ = false;
};

}  // namespace common::kafka
