#pragma once
#include <stdexcept>
#include <vector>

#include "common/kafka/kafka_record.hpp"

namespace worker::sync {

/// Some records of a batch were not acknowledged by the broker.
class PublishError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where sync runs put their events: the pipeline's main topic.
class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  /// Publishes `records` (their topic is set by the publisher) and returns once
  /// the broker acknowledged every one of them (acks=all). Throws PublishError
  /// naming the first failure; some records may have been persisted then,
  /// which is harmless: events are idempotent.
  virtual void publish(std::vector<common::kafka::OutgoingRecord> records) = 0;
};

}  // namespace worker::sync
