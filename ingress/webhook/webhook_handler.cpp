#include "ingress/webhook/webhook_handler.hpp"

#include <exception>

#include "common/events/event_contract.hpp"
#include "common/events/event_key.hpp"
#include "common/logging/logger.hpp"
#include "ingress/ingress_metrics.hpp"
#include "ingress/signature/webhook_headers.hpp"

namespace ingress::webhook {
namespace {

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

// `application/json`, optionally with `charset=utf-8` (quoted or not); other
// parameters are ignored, another charset is refused.
bool is_json_utf8(std::string_view content_type) {
  std::size_t semicolon = content_type.find(';');
  if (lower_trimmed(content_type.substr(0, semicolon)) != "application/json") return false;
  while (semicolon != std::string_view::npos) {
    content_type.remove_prefix(semicolon + 1);
    semicolon = content_type.find(';');
    std::string_view parameter = content_type.substr(0, semicolon);
    std::size_t eq = parameter.find('=');
    if (eq == std::string_view::npos) continue;
    if (lower_trimmed(parameter.substr(0, eq)) != "charset") continue;
    std::string value = lower_trimmed(parameter.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (value != "utf-8" && value != "utf8") return false;
  }
  return true;
}

int verify_status(signature::VerifyError error) {
  switch (error) {
    case signature::VerifyError::kTimestampTooOld:
    case signature::VerifyError::kTimestampTooNew:
    case signature::VerifyError::kNoMatchingSignature:
      return 401;
    default:
      return 400;
  }
}

std::string_view verify_detail(signature::VerifyError error) {
  switch (error) {
    case signature::VerifyError::kInvalidId:
      return "the delivery id is empty, too long, or has '.', spaces, control or non-ASCII bytes";
    case signature::VerifyError::kInvalidTimestamp:
      return "the delivery timestamp is not a plain decimal integer of seconds";
    case signature::VerifyError::kTimestampTooOld:
      return "the delivery timestamp is older than the tolerance";
    case signature::VerifyError::kTimestampTooNew:
      return "the delivery timestamp is further in the future than the tolerance";
    case signature::VerifyError::kInvalidSignatureHeader:
      return "the signature header is over 4 KiB or has more than 10 entries";
    case signature::VerifyError::kNoMatchingSignature:
      return "no v1 signature matches a configured secret";
    case signature::VerifyError::kNone:
      return "";
  }
  return "";
}

std::string_view header_code(signature::HeaderError error) {
  switch (error) {
    case signature::HeaderError::kDuplicate:
      return "duplicate_header";
    case signature::HeaderError::kConflicting:
      return "conflicting_headers";
    case signature::HeaderError::kMissing:
    case signature::HeaderError::kNone:
      return "missing_headers";
  }
  return "missing_headers";
}

}  // namespace

WebhookHandler::WebhookHandler(WebhookSettings settings,
                               const signature::SignatureVerifier& verifier,
                               const common::events::EnvelopeCodec& codec,
                               publish::EventPublisher& publisher, IngressMetrics& metrics,
                               common::logging::Logger& logger, WallClock clock)
    : settings_(std::move(settings)),
      verifier_(verifier),
      codec_(codec),
      publisher_(publisher),
      metrics_(metrics),
      logger_(logger),
      clock_(std::move(clock)),
      recent_(settings_.recent_ids) {}

http::HttpResponse WebhookHandler::reject(int status, std::string_view code,
                                          std::string_view detail) const {
  return http::HttpResponse::error(status, code, detail);
}

std::optional<http::HttpResponse> WebhookHandler::check_head(
    const http::HttpRequest& request) const {
  auto content_type = request.header("content-type");
  if (request.count("content-type") != 1 || !is_json_utf8(*content_type)) {
    return reject(415, "unsupported_media_type",
                  "Content-Type must be application/json (charset utf-8)");
  }
  for (const auto& [name, value] : request.headers) {
    if (name == "content-encoding" && lower_trimmed(value) != "identity") {
      return reject(415, "unsupported_media_type", "compressed bodies are not accepted");
    }
  }
  return std::nullopt;
}

Admission WebhookHandler::admit(http::HttpRequest& request) {
  Admission admission;
  signature::HeaderExtraction extracted = signature::extract_webhook_headers(request.headers);
  if (!extracted.ok()) {
    admission.answer = reject(400, header_code(extracted.error), extracted.detail);
    return admission;
  }
  const signature::WebhookHeaders& headers = extracted.headers;
  std::int64_t now_ms = clock_();
  signature::VerifyResult verified = verifier_.verify(headers, request.body, now_ms / 1000);
  if (!verified.ok()) {
    admission.answer = reject(verify_status(verified.error), signature::to_code(verified.error),
                              verify_detail(verified.error));
    return admission;
  }
  metrics_.secret_matched(verified.secret_index);

  // Only authenticated bytes reach the JSON parser.
  common::events::EnvelopeDecodeResult decoded = codec_.decode(request.body);
  if (!decoded.ok()) {
    admission.answer = reject(400, common::events::to_code(decoded.error), decoded.detail);
    return admission;
  }

  admission.event_id = std::string(headers.id);
  admission.body = fingerprint(request.body);
  switch (recent_.observe(admission.event_id, admission.body)) {
    case Recall::kDifferentBody:
      logger_.warn("delivery id reused with a different body",
                   {{"svix_id", admission.event_id}, {"type", decoded.facts.type}});
      admission.answer = reject(409, "id_reuse", "this delivery id was seen with another body");
      return admission;
    case Recall::kSameBodyPersisted:
      metrics_.duplicate_delivery();
      admission.answer = http::HttpResponse{200, "{\"status\":\"duplicate\"}"};
      return admission;
    case Recall::kNew:
    case Recall::kSameBody:
      break;
  }

  namespace header = common::events::header;
  common::kafka::OutgoingRecord& record = admission.record;
  record.topic = settings_.topic;
  record.key = common::events::event_key(decoded.facts, headers.id);
  record.timestamp_ms = now_ms;
  record.headers.reserve(6);
  record.headers.push_back({std::string(header::kEventId), admission.event_id});
  record.headers.push_back({std::string(header::kEventType), decoded.facts.type});
  if (decoded.facts.timestamp_ms) {
    record.headers.push_back(
        {std::string(header::kEventTimestamp), std::to_string(*decoded.facts.timestamp_ms)});
  }
  record.headers.push_back({std::string(header::kSvixTimestamp), std::string(headers.timestamp)});
  record.headers.push_back({std::string(header::kSource), std::string(common::events::to_string(
                                                              common::events::Source::kWebhook))});
  record.headers.push_back({std::string(header::kReceivedAt), std::to_string(now_ms)});
  record.value = std::move(request.body);  // the exact bytes received
  return admission;
}

void WebhookHandler::handle(http::HttpRequest&& request, http::Responder respond) {
  try {
    publish_admitted(request, respond);
  } catch (const std::exception& e) {
    // Row 47: no detail for the sender, the delivery id for the operator.
    auto id = signature::extract_webhook_headers(request.headers).headers.id;
    logger_.error("webhook handling failed", {{"svix_id", id}, {"detail", e.what()}});
    respond(reject(500, "internal", "internal error"));
  }
}

void WebhookHandler::publish_admitted(http::HttpRequest& request, const http::Responder& respond) {
  Admission admission = admit(request);
  if (admission.answer) {
    respond(std::move(*admission.answer));
    return;
  }
  if (in_flight_.fetch_add(1) >= settings_.max_in_flight) {
    in_flight_.fetch_sub(1);
    respond(http::HttpResponse::unavailable("overloaded", "too many deliveries in flight",
                                            settings_.retry_after_seconds));
    return;
  }
  metrics_.publishes_in_flight(+1);
  auto started = std::chrono::steady_clock::now();
  auto on_published = [this, respond, started, id = admission.event_id,
                       body = admission.body](const publish::PublishResult& result) {
    in_flight_.fetch_sub(1);
    metrics_.publishes_in_flight(-1);
    http::HttpResponse answer;
    std::string_view outcome;
    switch (result.status) {
      case publish::PublishStatus::kPersisted:
        recent_.mark_persisted(id, body);
        answer = http::HttpResponse{200, "{\"status\":\"accepted\"}"};
        outcome = "persisted";
        break;
      case publish::PublishStatus::kQueueFull:
        answer = http::HttpResponse::unavailable("overloaded", "the producer queue is full",
                                                 settings_.retry_after_seconds);
        outcome = "queue_full";
        break;
      case publish::PublishStatus::kFailed:
        answer = http::HttpResponse::unavailable("publish_failed",
                                                 "the event could not be persisted to Kafka",
                                                 settings_.retry_after_seconds);
        outcome = "failed";
        break;
      case publish::PublishStatus::kTooLarge:
        // Permanent: the same body would be refused again.
        answer = reject(413, "payload_too_large",
                        "the Kafka topic does not take a record this large (its "
                        "max.message.bytes is below INGRESS_MAX_BODY_BYTES)");
        outcome = "failed";
        break;
    }
    metrics_.publish_finished(outcome, std::chrono::steady_clock::now() - started);
    if (result.status != publish::PublishStatus::kPersisted) {
      logger_.warn("publish failed", {{"svix_id", id}, {"detail", result.error}});
    }
    if (!respond(std::move(answer))) {
      // The budget answered 503 first; the sender will retry this id.
      metrics_.publish_answered_late();
    }
  };
  try {
    publisher_.publish(std::move(admission.record), std::move(on_published));
  } catch (...) {
    in_flight_.fetch_sub(1);
    metrics_.publishes_in_flight(-1);
    throw;
  }
}

}  // namespace ingress::webhook
