#pragma once
#include <chrono>
#include <stdexcept>
#include <vector>

#include "common/kafka/kafka_record.hpp"

namespace common::kafka {
class KafkaProducer;
}

namespace worker::consume {

/// Publishing retry or dead-letter copies failed: the batch must not commit.
class RoutingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Publishes copies of failed events to retry and dead-letter topics, and returns
/// only once every copy is persisted (so their offsets may be committed).
class FailureRouter {
 public:
  virtual ~FailureRouter() = default;
  /// Throws RoutingError when a copy was not persisted; copies that were are
  /// harmless duplicates when the batch is retried (same event id).
  virtual void publish(const std::vector<common::kafka::OutgoingRecord>& records) = 0;
};

/// FailureRouter on the idempotent acks=all KafkaProducer. Thread-compatible:
/// one caller at a time.
class KafkaFailureRouter : public FailureRouter {
 public:
  KafkaFailureRouter(common::kafka::KafkaProducer& producer, std::chrono::milliseconds timeout);
  void publish(const std::vector<common::kafka::OutgoingRecord>& records) override;

 private:
  common::kafka::KafkaProducer& producer_;
  std::chrono::milliseconds timeout_;
};

}  // namespace worker::consume
