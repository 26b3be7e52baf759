#include "worker/sync/kafka_event_publisher.hpp"

#include "common/kafka/kafka_producer.hpp"

namespace worker::sync {

KafkaEventPublisher::KafkaEventPublisher(common::kafka::KafkaProducer& producer, std::string topic,
                                         std::chrono::milliseconds delivery_timeout)
    : producer_(producer), topic_(std::move(topic)), delivery_timeout_(delivery_timeout) {}

void KafkaEventPublisher::publish(std::vector<common::kafka::OutgoingRecord> records) {
  for (auto& record : records)
    record.topic = topic_;
  // Every queued record is reported within the delivery timeout; the margin
  // covers waiting out a full local queue first.
  auto delivery = producer_.produce_all(records, delivery_timeout_ + std::chrono::seconds(5));
  if (delivery.unreported > 0) {
    throw PublishError("no delivery report from " + topic_ + " for " +
                       std::to_string(delivery.unreported) + " events");
  }
  if (!delivery.ok()) {
    throw PublishError(std::to_string(delivery.failed) + " of " + std::to_string(records.size()) +
                       " events not acknowledged by " + topic_ + ": " + delivery.first_error);
  }
}

}  // namespace worker::sync
