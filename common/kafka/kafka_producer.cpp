#include "common/kafka/kafka_producer.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>

#include "common/kafka/kafka_error.hpp"
#include "common/logging/logger.hpp"

namespace common::kafka {

KafkaProducer::KafkaProducer(const ProducerSettings& settings, logging::Logger& logger)
    : delivery_timeout_(settings.delivery_timeout) {
  context_.logger = &logger;
  Properties props = base_properties(settings.brokers, settings.client_id);
  props["acks"] = "all";
  props["enable.idempotence"] = "true";
  props["message.timeout.ms"] = std::to_string(settings.delivery_timeout.count());
  props["linger.ms"] = std::to_string(settings.linger.count());
  props["compression.type"] = "lz4";
  props["queue.buffering.max.messages"] = "1000000";
  // The topic's max.message.bytes decides what is too large (kMaxRecordBytes when
  // the project created it), not librdkafka's own default of 1,000,000 bytes, which
  // is less than the ingress's default body limit of 1 MiB. Batches stay bounded
  // by batch.size.
  props["message.max.bytes"] = std::to_string(kProducerMaxMessageBytes);
  for (const auto& [k, v] : settings.extra)
    props[k] = v;
  ConfPtr conf = make_conf(props);
  rd_kafka_conf_set_dr_msg_cb(
      conf.get(), [](rd_kafka_t*, const rd_kafka_message_t* m, void*) { on_delivery_report(m); });
  install_client_callbacks(conf.get(), &context_);
  handle_ = make_handle(std::move(conf), true);
  poller_ = std::thread([this] {
    while (running_.load())
      rd_kafka_poll(handle_.get(), 100);
  });
}

KafkaProducer::~KafkaProducer() {
  rd_kafka_flush(handle_.get(), static_cast<int>(delivery_timeout_.count()));
  running_.store(false);
  poller_.join();
  // Anything still queued is purged so every callback runs exactly once.
  rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(handle_.get(), 0);
}

struct MessageOpaque {
  KafkaProducer* producer;
  DeliveryCallback callback;
  std::string value;  ///< the payload when taken over (read in place by librdkafka)
};

EnqueueResult KafkaProducer::produce(const OutgoingRecord& record, DeliveryCallback on_delivery,
                                     std::string* error) {
  auto opaque = std::make_unique<MessageOpaque>(MessageOpaque{this, std::move(on_delivery), {}});
  return enqueue(record, record.value, RD_KAFKA_MSG_F_COPY, std::move(opaque), error);
}

EnqueueResult KafkaProducer::produce(OutgoingRecord&& record, DeliveryCallback on_delivery,
                                     std::string* error) {
  auto opaque = std::make_unique<MessageOpaque>(
      MessageOpaque{this, std::move(on_delivery), std::move(record.value)});
  std::string_view value = opaque->value;
  return enqueue(record, value, 0, std::move(opaque), error);
}

EnqueueResult KafkaProducer::enqueue(const OutgoingRecord& record, std::string_view value,
                                     int flags, std::unique_ptr<MessageOpaque> opaque,
                                     std::string* error) {
  rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
  for (const auto& h : record.headers) {
    rd_kafka_header_add(headers, h.name.data(), static_cast<ssize_t>(h.name.size()), h.value.data(),
                        static_cast<ssize_t>(h.value.size()));
  }
  rd_kafka_resp_err_t err = rd_kafka_producev(
      handle_.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
      RD_KAFKA_V_PARTITION(record.partition.value_or(RD_KAFKA_PARTITION_UA)),
      RD_KAFKA_V_MSGFLAGS(flags), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_KEY(record.key.data(), record.key.size()), RD_KAFKA_V_HEADERS(headers),
      RD_KAFKA_V_TIMESTAMP(record.timestamp_ms), RD_KAFKA_V_OPAQUE(opaque.get()), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(headers);  // not taken over on failure
    if (error != nullptr) *error = rd_kafka_err2str(err);
    if (err == RD_KAFKA_RESP_ERR__FATAL) context_.fatal.store(true);
    return err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? EnqueueResult::kQueueFull
                                                : EnqueueResult::kFailed;
  }
  opaque.release();  // reclaimed in on_delivery_report
  return EnqueueResult::kQueued;
}

void KafkaProducer::on_delivery_report(const void* message) {
  const auto* m = static_cast<const rd_kafka_message_t*>(message);
  std::unique_ptr<MessageOpaque> opaque(static_cast<MessageOpaque*>(m->_private));
  if (!opaque) return;
  DeliveryReport report;
  report.persisted = m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                     rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_PERSISTED;
  if (!report.persisted) {
    report.error = m->err ? rd_kafka_err2str(m->err) : "not persisted";
    report.fatal = m->err == RD_KAFKA_RESP_ERR__FATAL || opaque->producer->context_.fatal.load();
    report.too_large = m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
  }
  report.partition = m->partition;
  report.offset = m->offset;
  if (opaque->callback) opaque->callback(report);
}

bool KafkaProducer::flush(std::chrono::milliseconds timeout) {
  return rd_kafka_flush(handle_.get(), static_cast<int>(timeout.count())) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
}

int KafkaProducer::in_flight() const {
  return rd_kafka_outq_len(handle_.get());
}

bool KafkaProducer::ping(std::chrono::milliseconds timeout) const {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(handle_.get(), 0, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  bool has_brokers = metadata->broker_cnt > 0;
  rd_kafka_metadata_destroy(metadata);
  return has_brokers;
}

DeliveryReport KafkaProducer::produce_sync(const OutgoingRecord& record) {
  auto promise = std::make_shared<std::promise<DeliveryReport>>();
  auto future = promise->get_future();
  std::string error;
  EnqueueResult r = produce(
      record, [promise](const DeliveryReport& report) { promise->set_value(report); }, &error);
  if (r != EnqueueResult::kQueued) {
    DeliveryReport failed;
    failed.error = error.empty() ? "local queue full" : error;
    return failed;
  }
  return future.get();
}

BatchDelivery KafkaProducer::produce_all(const std::vector<OutgoingRecord>& records,
                                         std::chrono::milliseconds timeout) {
  // Shared with the delivery callbacks, which may outlive this call on timeout.
  struct Tally {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t pending = 0;
    BatchDelivery result;
  };
  auto tally = std::make_shared<Tally>();
  auto on_delivery = [tally](const DeliveryReport& report) {
    std::lock_guard lock(tally->mutex);
    if (report.persisted) {
      ++tally->result.persisted;
    } else if (tally->result.failed++ == 0) {
      tally->result.first_error = report.error;
    }
    if (--tally->pending == 0) tally->done.notify_all();
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& record : records) {
    std::chrono::milliseconds backoff{5};
    std::string error;
    EnqueueResult queued;
    {
      std::lock_guard lock(tally->mutex);
      ++tally->pending;
    }
    while ((queued = produce(record, on_delivery, &error)) == EnqueueResult::kQueueFull &&
           std::chrono::steady_clock::now() < deadline) {
      // The local queue drains as the broker acknowledges.
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(200));
    }
    if (queued != EnqueueResult::kQueued) {
      std::lock_guard lock(tally->mutex);
      --tally->pending;
      if (tally->result.failed++ == 0) {
        tally->result.first_error = error.empty() ? "local queue full" : error;
      }
      break;
    }
  }
  std::unique_lock lock(tally->mutex);
  tally->done.wait_until(lock, deadline, [&] { return tally->pending == 0; });
  BatchDelivery result = tally->result;
  result.unreported = tally->pending;
  return result;
}

}  // namespace common::kafka
