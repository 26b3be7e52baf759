#include "worker/sync/kafka_event_publisher.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/kafka/kafka_producer.hpp"

namespace worker::sync {
namespace {

// Shared with the delivery callbacks, which may outlive a publish() that threw.
struct BatchState {
  std::mutex mutex;
  std::condition_variable done;
  std::size_t pending = 0;
  std::size_t failed = 0;
  std::string first_error;
};

}  // namespace

KafkaEventPublisher::KafkaEventPublisher(common::kafka::KafkaProducer& producer, std::string topic,
                                         std::chrono::milliseconds delivery_timeout)
    : producer_(producer), topic_(std::move(topic)), delivery_timeout_(delivery_timeout) {}

void KafkaEventPublisher::publish(std::vector<common::kafka::OutgoingRecord> records) {
  using common::kafka::EnqueueResult;
  auto state = std::make_shared<BatchState>();
  for (auto& record : records) {
    record.topic = topic_;
    {
      std::lock_guard lock(state->mutex);
      ++state->pending;
    }
    auto on_delivery = [state](const common::kafka::DeliveryReport& report) {
      std::lock_guard lock(state->mutex);
      if (!report.persisted) {
        if (state->failed++ == 0) state->first_error = report.error;
      }
      if (--state->pending == 0) state->done.notify_all();
    };
    // A full local queue drains as the broker acknowledges; wait with a capped
    // backoff, and give up after the delivery timeout.
    auto give_up_at = std::chrono::steady_clock::now() + delivery_timeout_;
    std::chrono::milliseconds wait{5};
    for (;;) {
      std::string error;
      EnqueueResult result = producer_.produce(record, on_delivery, &error);
      if (result == EnqueueResult::kQueued) break;
      if (result == EnqueueResult::kFailed || std::chrono::steady_clock::now() > give_up_at) {
        std::lock_guard lock(state->mutex);
        --state->pending;
        throw PublishError("cannot publish to " + topic_ + ": " +
                           (error.empty() ? "local queue full" : error));
      }
      std::this_thread::sleep_for(wait);
      wait = std::min(wait * 2, std::chrono::milliseconds(200));
    }
  }
  std::unique_lock lock(state->mutex);
  // Every queued record gets exactly one report within the delivery timeout.
  bool all_reported = state->done.wait_for(lock, delivery_timeout_ + std::chrono::seconds(5),
                                           [&] { return state->pending == 0; });
  if (!all_reported) {
    throw PublishError("no delivery report from " + topic_ + " for " +
                       std::to_string(state->pending) + " events");
  }
  if (state->failed > 0) {
    throw PublishError(std::to_string(state->failed) + " of " + std::to_string(records.size()) +
                       " events not acknowledged by " + topic_ + ": " + state->first_error);
  }
}

}  // namespace worker::sync
