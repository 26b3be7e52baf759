#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/kafka/kafka_producer.hpp"
#include "ingress/publish/event_publisher.hpp"

namespace common::logging {
class Logger;
}

namespace ingress {
class IngressMetrics;
}

namespace ingress::publish {

/// The part of common::kafka::KafkaProducer the publisher uses: the seam that lets
/// unit tests put a fake producer (with injected failures) in its place.
class RecordProducer {
 public:
  virtual ~RecordProducer() = default;
  /// Takes the record over (its value is not copied); dropped when not queued.
  virtual common::kafka::EnqueueResult produce(common::kafka::OutgoingRecord&& record,
                                               common::kafka::DeliveryCallback on_delivery,
                                               std::string* error) = 0;
  virtual bool has_fatal_error() const = 0;
  virtual bool ping(std::chrono::milliseconds timeout) const = 0;
  virtual bool flush(std::chrono::milliseconds timeout) = 0;
};

using ProducerFactory = std::function<std::unique_ptr<RecordProducer>()>;

/// Builds RecordProducers over common::kafka::KafkaProducer (acks=all, idempotent).
ProducerFactory kafka_producer_factory(common::kafka::ProducerSettings settings,
                                       common::logging::Logger& logger);

/// Publishes through one producer at a time and replaces it when librdkafka reports
/// a fatal error (idempotence broken): requests meanwhile fail fast (503 upstream)
/// rather than wait. A maintenance thread does the replacing and pings the broker
/// every `ping_interval` for ready(), so no I/O thread ever blocks on Kafka.
///
/// Thread-safe. Owned by main; outlives the HTTP server's use of it. The destructor
/// stops the maintenance thread and destroys the producer, which flushes for at most
/// its delivery timeout; callbacks still pending then run with kFailed.
class KafkaEventPublisher : public EventPublisher {
 public:
  /// Throws what the factory throws (common::kafka::KafkaError on bad settings).
  KafkaEventPublisher(ProducerFactory factory, IngressMetrics& metrics,
                      common::logging::Logger& logger,
                      std::chrono::milliseconds ping_interval = std::chrono::seconds(2));
  ~KafkaEventPublisher() override;
  KafkaEventPublisher(const KafkaEventPublisher&) = delete;
  KafkaEventPublisher& operator=(const KafkaEventPublisher&) = delete;

  void publish(common::kafka::OutgoingRecord&& record, PublishCallback done) override;
  bool ready() const override { return ready_.load(); }
  bool flush(std::chrono::milliseconds timeout) override;
  /// Stops the maintenance thread and destroys the producer, which flushes for at
  /// most its delivery timeout; callbacks still pending then run with kFailed, here.
  /// Call it while whatever those callbacks reach is alive. publish() afterwards
  /// fails at once. Idempotent; the destructor calls it.
  void close();
  /// Producers created so far (1 + recreations); for tests and metrics.
  int generation() const { return generation_.load(); }

 private:
  std::shared_ptr<RecordProducer> current() const;
  void request_recreate();
  void maintain();
  void recreate();

  ProducerFactory factory_;
  IngressMetrics& metrics_;
  common::logging::Logger& logger_;
  std::chrono::milliseconds ping_interval_;
  mutable std::mutex mutex_;
  std::shared_ptr<RecordProducer> producer_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> recreate_requested_{false};
  std::atomic<bool> ready_{false};
  std::atomic<int> generation_{1};
  std::thread maintenance_;
};

}  // namespace ingress::publish
