#pragma once
#include <chrono>
#include <string>

#include "worker/sync/event_publisher.hpp"

namespace common::kafka {
class KafkaProducer;
}

namespace worker::sync {

/// EventPublisher over the shared idempotent KafkaProducer (owned by the
/// caller): enqueues a batch, backs off while the local queue is full, then
/// waits for every delivery report. Used from one thread at a time.
class KafkaEventPublisher : public EventPublisher {
 public:
  KafkaEventPublisher(common::kafka::KafkaProducer& producer, std::string topic,
                      std::chrono::milliseconds delivery_timeout);
  void publish(std::vector<common::kafka::OutgoingRecord> records) override;

 private:
  common::kafka::KafkaProducer& producer_;
  std::string topic_;
  std::chrono::milliseconds delivery_timeout_;
};

}  // namespace worker::sync
