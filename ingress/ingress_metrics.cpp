#include "ingress/ingress_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace ingress {
namespace {

// Every rejection code any layer can produce (parser, server, routes, webhook).
constexpr std::string_view kRejectionCodes[] = {
    // framing (parser and server)
    "invalid_request_line", "invalid_header", "invalid_framing", "invalid_content_length",
    "invalid_chunk", "unsupported_transfer_encoding", "payload_too_large", "uri_too_long",
    "headers_too_large", "http_version_not_supported", "expectation_failed", "request_timeout",
    "too_many_connections",
    // routing
    "not_found", "method_not_allowed", "unsupported_media_type",
    // verification
    "missing_headers", "conflicting_headers", "duplicate_header", "invalid_id", "invalid_timestamp",
    "timestamp_too_old", "timestamp_too_new", "invalid_signature_header", "no_matching_signature",
    // envelope
    "invalid_json", "invalid_utf8", "nul_in_string", "duplicate_key", "invalid_envelope",
    "id_reuse",
    // availability
    "overloaded", "publish_failed", "publish_timeout", "not_ready", "internal",
    // anything else
    "other"};

constexpr std::string_view kPublishOutcomes[] = {"persisted", "failed", "queue_full", "late"};
constexpr std::string_view kProducerErrors[] = {"delivery_failed", "queue_full", "enqueue_failed",
                                                "fatal"};

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15};
}

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Route route_of(std::string_view path) {
  if (path == "/webhooks/clerk") return Route::kWebhook;
  if (path == "/healthz") return Route::kHealthz;
  if (path == "/readyz") return Route::kReadyz;
  if (path == "/metrics") return Route::kMetrics;
  return Route::kOther;
}

std::string_view to_string(Route route) {
  switch (route) {
    case Route::kWebhook:
      return "webhook";
    case Route::kHealthz:
      return "healthz";
    case Route::kReadyz:
      return "readyz";
    case Route::kMetrics:
      return "metrics";
    case Route::kOther:
      return "other";
  }
  return "other";
}

IngressMetrics::IngressMetrics(prometheus::Registry& registry, std::size_t secret_count)
    : registry_(registry) {
  auto& requests = prometheus::BuildCounter()
                       .Name("clerk_mirror_ingress_requests_total")
                       .Help("HTTP requests answered, by route and status code")
                       .Register(registry_);
  requests_family_ = &requests;
  auto& request_seconds = prometheus::BuildHistogram()
                              .Name("clerk_mirror_ingress_request_duration_seconds")
                              .Help("Time from the first byte of a request to its answer")
                              .Register(registry_);
  for (std::size_t r = 0; r < kRoutes; ++r) {
    request_seconds_[r] = &request_seconds.Add(
        {{"route", std::string(to_string(static_cast<Route>(r)))}}, latency_buckets());
  }
  auto& rejected = prometheus::BuildCounter()
                       .Name("clerk_mirror_ingress_rejected_total")
                       .Help("Requests refused, by rejection code (the JSON error)")
                       .Register(registry_);
  for (std::string_view code : kRejectionCodes) {
    rejected_.emplace_back(code, &rejected.Add({{"code", std::string(code)}}));
  }
  auto& publishes = prometheus::BuildCounter()
                        .Name("clerk_mirror_ingress_publish_total")
                        .Help("Records handed to Kafka, by outcome")
                        .Register(registry_);
  for (std::string_view outcome : kPublishOutcomes) {
    publish_outcomes_.emplace_back(outcome, &publishes.Add({{"outcome", std::string(outcome)}}));
  }
  publish_seconds_ = &prometheus::BuildHistogram()
                          .Name("clerk_mirror_ingress_publish_duration_seconds")
                          .Help("Time from produce to the broker's delivery report")
                          .Register(registry_)
                          .Add({}, latency_buckets());
  in_flight_requests_ = &prometheus::BuildGauge()
                             .Name("clerk_mirror_ingress_in_flight_requests")
                             .Help("Requests being handled (read, not yet answered)")
                             .Register(registry_)
                             .Add({});
  in_flight_publishes_ = &prometheus::BuildGauge()
                              .Name("clerk_mirror_ingress_in_flight_publishes")
                              .Help("Records handed to Kafka and not yet acknowledged")
                              .Register(registry_)
                              .Add({});
  connections_ = &prometheus::BuildGauge()
                      .Name("clerk_mirror_ingress_connections")
                      .Help("Open client connections")
                      .Register(registry_)
                      .Add({});
  connections_refused_ = &prometheus::BuildCounter()
                              .Name("clerk_mirror_ingress_connections_refused_total")
                              .Help("Connections refused because the connection cap was reached")
                              .Register(registry_)
                              .Add({});
  auto& producer_errors = prometheus::BuildCounter()
                              .Name("clerk_mirror_ingress_producer_errors_total")
                              .Help("Kafka producer errors, by kind")
                              .Register(registry_);
  for (std::string_view kind : kProducerErrors) {
    producer_errors_.emplace_back(kind, &producer_errors.Add({{"kind", std::string(kind)}}));
  }
  producer_recreated_ = &prometheus::BuildCounter()
                             .Name("clerk_mirror_ingress_producer_recreated_total")
                             .Help("Kafka producers replaced after a fatal error")
                             .Register(registry_)
                             .Add({});
  duplicates_ = &prometheus::BuildCounter()
                     .Name("clerk_mirror_ingress_duplicate_deliveries_total")
                     .Help("Deliveries whose id and body were already persisted (not republished)")
                     .Register(registry_)
                     .Add({});
  auto& secrets =
      prometheus::BuildCounter()
          .Name("clerk_mirror_ingress_secret_matches_total")
          .Help("Verified deliveries by the index of the configured secret that matched")
          .Register(registry_);
  for (std::size_t i = 0; i < secret_count; ++i) {
    secret_matches_.push_back(&secrets.Add({{"secret", std::to_string(i)}}));
  }
}

IngressMetrics::~IngressMetrics() = default;

prometheus::Counter& IngressMetrics::request_counter(Route route, int status) {
  if (status < kMinStatus || status > kMaxStatus) status = 500;
  auto& slot =
      requests_[static_cast<std::size_t>(route)][static_cast<std::size_t>(status - kMinStatus)];
  if (prometheus::Counter* counter = slot.load(std::memory_order_acquire)) return *counter;
  std::lock_guard lock(cache_mutex_);
  if (prometheus::Counter* counter = slot.load(std::memory_order_acquire)) return *counter;
  auto* family = static_cast<prometheus::Family<prometheus::Counter>*>(requests_family_);
  prometheus::Counter* counter =
      &family->Add({{"route", std::string(to_string(route))}, {"status", std::to_string(status)}});
  slot.store(counter, std::memory_order_release);
  return *counter;
}

prometheus::Counter* IngressMetrics::counter_for(
    std::vector<std::pair<std::string_view, prometheus::Counter*>>& table, std::string_view key) {
  for (auto& [name, counter] : table) {
    if (name == key) return counter;
  }
  return table.back().second;  // the last entry is the catch-all
}

void IngressMetrics::on_response(std::string_view path, int status, std::string_view error_code,
                                 std::chrono::steady_clock::duration elapsed) {
  Route route = route_of(path);
  request_counter(route, status).Increment();
  request_seconds_[static_cast<std::size_t>(route)]->Observe(seconds(elapsed));
  if (!error_code.empty()) counter_for(rejected_, error_code)->Increment();
}

void IngressMetrics::on_connection_opened() {
  connections_->Increment();
}
void IngressMetrics::on_connection_closed() {
  connections_->Decrement();
}
void IngressMetrics::on_connection_refused() {
  connections_refused_->Increment();
}
void IngressMetrics::on_handling(int delta) {
  in_flight_requests_->Increment(delta);
}

void IngressMetrics::publish_finished(std::string_view outcome,
                                      std::chrono::steady_clock::duration elapsed) {
  counter_for(publish_outcomes_, outcome)->Increment();
  publish_seconds_->Observe(seconds(elapsed));
}

void IngressMetrics::publish_answered_late() {
  counter_for(publish_outcomes_, "late")->Increment();
}

void IngressMetrics::publishes_in_flight(int delta) {
  in_flight_publishes_->Increment(delta);
}

void IngressMetrics::producer_error(std::string_view kind) {
  counter_for(producer_errors_, kind)->Increment();
}

void IngressMetrics::producer_recreated() {
  producer_recreated_->Increment();
}

void IngressMetrics::secret_matched(std::size_t index) {
  if (index < secret_matches_.size()) secret_matches_[index]->Increment();
}

void IngressMetrics::duplicate_delivery() {
  duplicates_->Increment();
}

}  // namespace ingress
