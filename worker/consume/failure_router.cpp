#include "worker/consume/failure_router.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/kafka/kafka_producer.hpp"

namespace worker::consume {

KafkaFailureRouter::KafkaFailureRouter(common::kafka::KafkaProducer& producer,
                                       std::chrono::milliseconds timeout)
    : producer_(producer), timeout_(timeout) {}

void KafkaFailureRouter::publish(const std::vector<common::kafka::OutgoingRecord>& records) {
  if (records.empty()) return;
  // Shared with the delivery callbacks, which may outlive this call on timeout.
  struct Tally {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t pending = 0;
    std::string first_error;
  };
  auto tally = std::make_shared<Tally>();
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (const auto& record : records) {
    while (true) {
      {
        std::lock_guard lock(tally->mutex);
        ++tally->pending;
      }
      std::string error;
      auto queued = producer_.produce(
          record,
          [tally](const common::kafka::DeliveryReport& report) {
            std::lock_guard lock(tally->mutex);
            if (!report.persisted && tally->first_error.empty()) tally->first_error = report.error;
            if (--tally->pending == 0) tally->done.notify_all();
          },
          &error);
      if (queued == common::kafka::EnqueueResult::kQueued) break;
      {
        std::lock_guard lock(tally->mutex);
        --tally->pending;
      }
      if (queued == common::kafka::EnqueueResult::kFailed ||
          std::chrono::steady_clock::now() > deadline) {
        throw RoutingError("publishing to " + record.topic + " failed: " + error);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // local queue full
    }
  }
  std::unique_lock lock(tally->mutex);
  if (!tally->done.wait_until(lock, deadline, [&] { return tally->pending == 0; })) {
    throw RoutingError("publishing retry/dead-letter copies timed out");
  }
  if (!tally->first_error.empty()) {
    throw RoutingError("publishing retry/dead-letter copies failed: " + tally->first_error);
  }
}

}  // namespace worker::consume
