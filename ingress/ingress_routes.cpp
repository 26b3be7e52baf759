#include "ingress/ingress_routes.hpp"

#include "ingress/ingress_metrics.hpp"
#include "ingress/publish/event_publisher.hpp"
#include "ingress/webhook/webhook_handler.hpp"

namespace ingress {

IngressRoutes::IngressRoutes(webhook::WebhookHandler& webhook, publish::EventPublisher& publisher,
                             std::function<std::string()> render_metrics, int retry_after_seconds)
    : webhook_(webhook),
      publisher_(publisher),
      render_metrics_(std::move(render_metrics)),
      retry_after_seconds_(retry_after_seconds) {}

std::optional<http::HttpResponse> IngressRoutes::check_head(const http::HttpRequest& request) {
  Route route = route_of(request.path);
  if (route == Route::kOther) {
    return http::HttpResponse::error(404, "not_found", "no such path");
  }
  const char* allowed = route == Route::kWebhook ? "POST" : "GET";
  if (request.method != allowed) {
    http::HttpResponse response =
        http::HttpResponse::error(405, "method_not_allowed", "this path does not take that method");
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  if (route == Route::kWebhook) return webhook_.check_head(request);
  return std::nullopt;
}

void IngressRoutes::handle(http::HttpRequest&& request, http::Responder respond) {
  switch (route_of(request.path)) {
    case Route::kWebhook:
      webhook_.handle(std::move(request), std::move(respond));
      return;
    case Route::kHealthz:
      respond(http::HttpResponse{200, "{\"status\":\"ok\"}"});
      return;
    case Route::kReadyz:
      if (!draining_.load() && publisher_.ready()) {
        respond(http::HttpResponse{200, "{\"status\":\"ready\"}"});
      } else {
        respond(http::HttpResponse::unavailable(
            "not_ready", draining_.load() ? "stopping" : "the Kafka broker does not answer",
            retry_after_seconds_));
      }
      return;
    case Route::kMetrics:
      respond(http::HttpResponse{200, render_metrics_(), "text/plain; version=0.0.4"});
      return;
    case Route::kOther:
      respond(http::HttpResponse::error(404, "not_found", "no such path"));
      return;
  }
}

http::HttpResponse IngressRoutes::budget_expired() {
  return http::HttpResponse::unavailable(
      "publish_timeout", "Kafka did not confirm the event within the budget", retry_after_seconds_);
}

}  // namespace ingress
