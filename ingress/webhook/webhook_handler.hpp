#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/events/envelope_codec.hpp"
#include "common/kafka/kafka_record.hpp"
#include "ingress/http/http_message.hpp"
#include "ingress/http/request_handler.hpp"
#include "ingress/publish/event_publisher.hpp"
#include "ingress/signature/signature_verifier.hpp"
#include "ingress/webhook/recent_deliveries.hpp"

namespace common::logging {
class Logger;
}

namespace ingress {
class IngressMetrics;
}

namespace ingress::webhook {

/// WebhookHandler's knobs (from IngressConfig).
struct WebhookSettings {
  std::string topic = "clerk.events";
  std::size_t max_in_flight = 1024;  ///< publishes awaiting the broker; 503 beyond
  int retry_after_seconds = 5;
  std::size_t recent_ids = 10000;  ///< RecentDeliveries capacity; 0 disables row 43
};

/// Milliseconds since the Unix epoch; injected so tests control time.
using WallClock = std::function<std::int64_t()>;

/// What admit() decided about one request.
struct Admission {
  std::optional<http::HttpResponse> answer;  ///< set: answer this and publish nothing
  common::kafka::OutgoingRecord record;      ///< otherwise: publish this
  std::string event_id;
  BodyFingerprint body;
};

/// POST /webhooks/clerk: the bad-input table in code. check_head() answers 415 for
/// a non-JSON content type or a compressed body before the body is read. admit()
/// runs the rest in the table's order: Standard Webhooks headers (missing,
/// conflicting, duplicate), then the verifier's cheap checks and HMAC, and only then
/// the JSON envelope; a verified, well-formed envelope of any type becomes a Kafka
/// record whose value is the exact body, keyed per common::events::event_key, with
/// the contract's headers. handle() publishes it and answers 200 only once the
/// publisher reports it persisted; 503 with Retry-After otherwise, and 503 at once
/// when more than `max_in_flight` publishes are pending.
///
/// Thread-safe (shared by every I/O thread). Never logs bodies or secrets; logs
/// the delivery id with failures. The verifier, codec, publisher, metrics and
/// logger are owned by main and outlive it.
class WebhookHandler {
 public:
  WebhookHandler(WebhookSettings settings, const signature::SignatureVerifier& verifier,
                 const common::events::EnvelopeCodec& codec, publish::EventPublisher& publisher,
                 IngressMetrics& metrics, common::logging::Logger& logger, WallClock clock);

  std::optional<http::HttpResponse> check_head(const http::HttpRequest& request) const;
  /// Verification, decoding and the duplicate check; no publishing. `request.body`
  /// is moved into the record when admitted.
  Admission admit(http::HttpRequest& request);
  void handle(http::HttpRequest&& request, http::Responder respond);
  std::size_t in_flight() const { return in_flight_.load(); }

 private:
  http::HttpResponse reject(int status, std::string_view code, std::string_view detail) const;
  void publish_admitted(http::HttpRequest& request, const http::Responder& respond);

  WebhookSettings settings_;
  const signature::SignatureVerifier& verifier_;
  const common::events::EnvelopeCodec& codec_;
  publish::EventPublisher& publisher_;
  IngressMetrics& metrics_;
  common::logging::Logger& logger_;
  WallClock clock_;
  RecentDeliveries recent_;
  std::atomic<std::size_t> in_flight_{0};
};

}  // namespace ingress::webhook
