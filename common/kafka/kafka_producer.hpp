#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/kafka/kafka_client_config.hpp"
#include "common/kafka/kafka_record.hpp"

namespace common::logging {
class Logger;
}

namespace common::kafka {

/// What the broker said about one produced record.
struct DeliveryReport {
  bool persisted = false;  ///< acknowledged per `acks` (all in-sync replicas with acks=all)
  std::string error;       ///< librdkafka's words when not persisted
  bool fatal = false;      ///< the producer instance is unusable and must be recreated
  bool too_large = false;  ///< the topic does not take a record this large (max.message.bytes)
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};
using DeliveryCallback = std::function<void(const DeliveryReport&)>;

/// librdkafka's message.max.bytes for every producer: 64 MiB + 64 KiB, above the
/// largest body the ingress can be configured to take (INGRESS_MAX_BODY_BYTES)
/// with its headers, so that only the topic's own limit can refuse a record.
inline constexpr std::int64_t kProducerMaxMessageBytes = 64 * 1024 * 1024 + 64 * 1024;

/// Outcome of handing a record to the local queue.
enum class EnqueueResult {
  kQueued,     ///< the callback will run exactly once, on the producer's poll thread
  kQueueFull,  ///< local queue full: back off; callback will not run
  kFailed,     ///< refused (unknown topic, fatal state, too large); callback will not run
};

/// What produce_all() achieved for a batch.
struct BatchDelivery {
  std::size_t persisted = 0;
  std::size_t failed = 0;      ///< reported as not persisted, or refused locally
  std::size_t unreported = 0;  ///< still in flight when the timeout expired
  std::string first_error;     ///< librdkafka's words for the first failure
  bool ok() const { return failed == 0 && unreported == 0; }
};

struct ProducerSettings {
  std::string brokers;
  std::string client_id = "clerk-mirror";
  std::chrono::milliseconds delivery_timeout{10000};  ///< message.timeout.ms
  std::chrono::milliseconds linger{1};
  Properties extra;  ///< any librdkafka property, applied last
};

struct MessageOpaque;  ///< per-record state between produce and its report

/// An idempotent producer (acks=all, enable.idempotence=true) with a thread that
/// serves delivery reports. Thread-safe: produce() may be called from any thread.
/// Owned by main (or by the ingress's publisher, which recreates it after a fatal
/// error). The destructor flushes for at most the delivery timeout, then drops
/// what is left (those callbacks run with persisted=false).
class KafkaProducer {
 public:
  KafkaProducer(const ProducerSettings& settings, logging::Logger& logger);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  /// Translates into rd_kafka_producev. `on_delivery` runs once when queued.
  EnqueueResult produce(const OutgoingRecord& record, DeliveryCallback on_delivery,
                        std::string* error = nullptr);
  /// The same, taking the value over instead of copying it: it stays with the record
  /// until its delivery report (librdkafka reads it in place), and is dropped on failure.
  EnqueueResult produce(OutgoingRecord&& record, DeliveryCallback on_delivery,
                        std::string* error = nullptr);
  /// Translates into rd_kafka_flush; true when nothing is left in flight.
  bool flush(std::chrono::milliseconds timeout);
  /// Records in flight (queued or awaiting acknowledgement).
  int in_flight() const;
  /// True once librdkafka raised a fatal error (idempotence broken).
  bool has_fatal_error() const { return context_.fatal.load(); }
  /// Broker metadata round trip within `timeout`; for /readyz.
  bool ping(std::chrono::milliseconds timeout) const;
  /// Produces and waits for the report; convenience for tools and tests.
  DeliveryReport produce_sync(const OutgoingRecord& record);
  /// Produces every record and waits until each one is reported or `timeout`
  /// passed. A full local queue is waited out with a capped backoff; a record the
  /// queue refuses stops the batch (records already queued are still awaited).
  /// Safe to call from several threads; blocks the caller.
  BatchDelivery produce_all(const std::vector<OutgoingRecord>& records,
                            std::chrono::milliseconds timeout);

 private:
  EnqueueResult enqueue(const OutgoingRecord& record, std::string_view value, int flags,
                        std::unique_ptr<MessageOpaque> opaque, std::string* error);
  static void on_delivery_report(const void* message);

  ClientContext context_;
  std::chrono::milliseconds delivery_timeout_;
  HandlePtr handle_;
  std::atomic<bool> running_{true};
  std::thread poller_;
};

}  // namespace common::kafka
