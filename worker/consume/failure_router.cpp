#include "worker/consume/failure_router.hpp"

#include "common/kafka/kafka_producer.hpp"

namespace worker::consume {

KafkaFailureRouter::KafkaFailureRouter(common::kafka::KafkaProducer& producer,
                                       std::chrono::milliseconds timeout)
    : producer_(producer), timeout_(timeout) {}

void KafkaFailureRouter::publish(const std::vector<common::kafka::OutgoingRecord>& records) {
  if (records.empty()) return;
  auto delivery = producer_.produce_all(records, timeout_);
  if (delivery.unreported > 0) {
    throw RoutingError("publishing retry/dead-letter copies timed out");
  }
  if (!delivery.ok()) {
    throw RoutingError("publishing retry/dead-letter copies failed: " + delivery.first_error);
  }
}

}  // namespace worker::consume
