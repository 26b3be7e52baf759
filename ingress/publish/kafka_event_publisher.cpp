#include "ingress/publish/kafka_event_publisher.hpp"

#include <exception>

#include "common/logging/logger.hpp"
#include "ingress/ingress_metrics.hpp"

namespace ingress::publish {
namespace {

/// Adapter: RecordProducer over common::kafka::KafkaProducer.
class KafkaRecordProducer : public RecordProducer {
 public:
  KafkaRecordProducer(const common::kafka::ProducerSettings& settings,
                      common::logging::Logger& logger)
      : producer_(settings, logger) {}
  common::kafka::EnqueueResult produce(common::kafka::OutgoingRecord&& record,
                                       common::kafka::DeliveryCallback on_delivery,
                                       std::string* error) override {
    return producer_.produce(std::move(record), std::move(on_delivery), error);
  }
  bool has_fatal_error() const override { return producer_.has_fatal_error(); }
  bool ping(std::chrono::milliseconds timeout) const override { return producer_.ping(timeout); }
  bool flush(std::chrono::milliseconds timeout) override { return producer_.flush(timeout); }

 private:
  common::kafka::KafkaProducer producer_;
};

}  // namespace

ProducerFactory kafka_producer_factory(common::kafka::ProducerSettings settings,
                                       common::logging::Logger& logger) {
  return [settings = std::move(settings), &logger]() -> std::unique_ptr<RecordProducer> {
    return std::make_unique<KafkaRecordProducer>(settings, logger);
  };
}

KafkaEventPublisher::KafkaEventPublisher(ProducerFactory factory, IngressMetrics& metrics,
                                         common::logging::Logger& logger,
                                         std::chrono::milliseconds ping_interval)
    : factory_(std::move(factory)),
      metrics_(metrics),
      logger_(logger),
      ping_interval_(ping_interval),
      producer_(factory_()) {
  maintenance_ = std::thread([this] { maintain(); });
}

KafkaEventPublisher::~KafkaEventPublisher() {
  close();
}

void KafkaEventPublisher::close() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
  ready_.store(false);
  // Destroying the last reference flushes for at most the delivery timeout.
  std::shared_ptr<RecordProducer> last;
  {
    std::lock_guard lock(mutex_);
    last = std::move(producer_);
  }
  while (last && last.use_count() > 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::shared_ptr<RecordProducer> KafkaEventPublisher::current() const {
  std::lock_guard lock(mutex_);
  return producer_;
}

void KafkaEventPublisher::request_recreate() {
  if (recreate_requested_.exchange(true)) return;
  ready_.store(false);
  wake_.notify_all();
}

void KafkaEventPublisher::publish(common::kafka::OutgoingRecord&& record, PublishCallback done) {
  std::shared_ptr<RecordProducer> producer = current();
  if (!producer) {
    done({PublishStatus::kFailed, "the publisher is closed"});
    return;
  }
  if (producer->has_fatal_error() || recreate_requested_.load()) {
    request_recreate();
    metrics_.producer_error("fatal");
    done({PublishStatus::kFailed, "the producer is being recreated after a fatal error"});
    return;
  }
  std::string error;
  auto on_delivery = [this, done](const common::kafka::DeliveryReport& report) {
    if (report.persisted) {
      done({PublishStatus::kPersisted, {}});
      return;
    }
    metrics_.producer_error(report.fatal ? "fatal" : "delivery_failed");
    if (report.fatal) request_recreate();
    done({report.too_large ? PublishStatus::kTooLarge : PublishStatus::kFailed, report.error});
  };
  switch (producer->produce(std::move(record), std::move(on_delivery), &error)) {
    case common::kafka::EnqueueResult::kQueued:
      return;
    case common::kafka::EnqueueResult::kQueueFull:
      metrics_.producer_error("queue_full");
      done({PublishStatus::kQueueFull, "the local producer queue is full"});
      return;
    case common::kafka::EnqueueResult::kFailed:
      metrics_.producer_error("enqueue_failed");
      if (producer->has_fatal_error()) request_recreate();
      done({PublishStatus::kFailed, error});
      return;
  }
}

bool KafkaEventPublisher::flush(std::chrono::milliseconds timeout) {
  std::shared_ptr<RecordProducer> producer = current();
  return producer ? producer->flush(timeout) : true;
}

void KafkaEventPublisher::maintain() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (recreate_requested_.load() || (producer_ && producer_->has_fatal_error())) {
      lock.unlock();
      recreate();
      lock.lock();
      continue;
    }
    std::shared_ptr<RecordProducer> producer = producer_;
    lock.unlock();
    bool answered = producer && producer->ping(std::chrono::milliseconds(1000));
    ready_.store(answered && !recreate_requested_.load());
    producer.reset();
    lock.lock();
    wake_.wait_for(lock, ping_interval_,
                   [this] { return stopping_ || recreate_requested_.load(); });
  }
}

void KafkaEventPublisher::recreate() {
  logger_.warn("recreating the Kafka producer after a fatal error");
  std::shared_ptr<RecordProducer> fresh;
  try {
    fresh = factory_();
  } catch (const std::exception& e) {
    logger_.error("cannot create a Kafka producer", {{"detail", e.what()}});
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, ping_interval_, [this] { return stopping_; });
    return;
  }
  std::shared_ptr<RecordProducer> old;
  {
    std::lock_guard lock(mutex_);
    old = std::move(producer_);
    producer_ = std::move(fresh);
  }
  recreate_requested_.store(false);
  generation_.fetch_add(1);
  metrics_.producer_recreated();
  // publish() holds a reference only for the length of one call; wait for those so
  // the old producer's flush-and-purge runs here, never on an I/O thread.
  while (old && old.use_count() > 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  old.reset();
}

}  // namespace ingress::publish
