#pragma once
#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "ingress/http/request_handler.hpp"

namespace ingress::publish {
class EventPublisher;
}
namespace ingress::webhook {
class WebhookHandler;
}

namespace ingress {

/// The ingress's routes, matched exactly on the path (query ignored, no
/// normalisation: a trailing slash or percent-encoding is a different path):
/// `POST /webhooks/clerk` (WebhookHandler), `GET /healthz`, `GET /readyz` (the
/// publisher's broker answered and the process is not stopping), `GET /metrics`
/// (`render_metrics`). 404 elsewhere, 405 with `Allow` for another method.
/// Thread-safe. Collaborators are owned by main and outlive it.
class IngressRoutes : public http::RequestHandler {
 public:
  IngressRoutes(webhook::WebhookHandler& webhook, publish::EventPublisher& publisher,
                std::function<std::string()> render_metrics, int retry_after_seconds);

  std::optional<http::HttpResponse> check_head(const http::HttpRequest& request) override;
  void handle(http::HttpRequest&& request, http::Responder respond) override;
  /// 503 publish_timeout with Retry-After: the delivery report did not come in time.
  http::HttpResponse budget_expired() override;
  /// From now on /readyz answers 503 (graceful stop).
  void begin_drain() { draining_.store(true); }

 private:
  webhook::WebhookHandler& webhook_;
  publish::EventPublisher& publisher_;
  std::function<std::string()> render_metrics_;
  int retry_after_seconds_;
  std::atomic<bool> draining_{false};
};

}  // namespace ingress
