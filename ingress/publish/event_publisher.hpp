#pragma once
#include <chrono>
#include <functional>
#include <string>

#include "common/kafka/kafka_record.hpp"

namespace ingress::publish {

enum class PublishStatus {
  kPersisted,  ///< the broker acknowledged the record (acks=all)
  kFailed,     ///< delivery failed or timed out, or the producer is being recreated
  kQueueFull,  ///< the local queue is full: back off
  kTooLarge,   ///< the topic does not take a record this large (its max.message.bytes)
};

/// What a publish came to; passed to the PublishCallback exactly once.
struct PublishResult {
  PublishStatus status = PublishStatus::kFailed;
  std::string error;  ///< the client's words when not persisted
};

using PublishCallback = std::function<void(const PublishResult&)>;

/// Where verified webhook bodies go. Implementations are thread-safe.
class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  /// Hands `record` over; `done` runs exactly once, on any thread (possibly before
  /// publish() returns), when the broker persisted it or it failed.
  virtual void publish(common::kafka::OutgoingRecord&& record, PublishCallback done) = 0;
  /// True when the broker answered a metadata request recently (for /readyz).
  virtual bool ready() const = 0;
  /// Waits up to `timeout` for everything in flight; true when nothing is left.
  virtual bool flush(std::chrono::milliseconds timeout) = 0;
};

}  // namespace ingress::publish
