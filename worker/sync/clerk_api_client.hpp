#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "worker/sync/api_retry_policy.hpp"
#include "worker/sync/clerk_api.hpp"
#include "worker/sync/clock.hpp"
#include "worker/sync/http_transport.hpp"
#include "worker/sync/rate_limiter.hpp"

namespace common::logging {
class Logger;
}

namespace worker::sync {

struct ClerkApiSettings {
  std::string base_url = "https://api.clerk.com";  ///< CLERK_API_URL, no trailing slash needed
  std::string secret_key;                          ///< CLERK_SECRET_KEY; never logged
  double requests_per_second = 20;                 ///< CLERK_API_RATE
  std::chrono::milliseconds timeout{30000};        ///< CLERK_API_TIMEOUT_MS, per request
  ApiRetrySettings retry;
};

/// ClerkApi over an HttpTransport: bearer authentication, request spacing at the
/// configured rate, Retry-After holds (no request at all before one expires),
/// capped exponential backoff on 5xx, timeouts and connection failures, then
/// ApiError naming the endpoint and the last status. Not thread-safe.
class ClerkApiClient : public ClerkApi {
 public:
  ClerkApiClient(ClerkApiSettings settings, HttpTransport& transport, Clock& clock,
                 common::logging::Logger& logger);

  ApiPage list(EntityKind kind, const std::string& organization_id, int limit,
               std::int64_t offset) override;
  std::int64_t count(EntityKind kind, const std::string& organization_id) override;
  std::optional<ApiEntity> get(EntityKind kind, const std::string& id) override;

  ApiStats stats() const override { return stats_; }

 private:
  /// Sends `GET <base><endpoint>` until accepted; nullopt on 404.
  std::optional<std::string> fetch(const std::string& endpoint);

  ClerkApiSettings settings_;
  HttpTransport& transport_;
  Clock& clock_;
  common::logging::Logger& logger_;
  ApiRetryPolicy policy_;
  RateLimiter limiter_;
  ApiStats stats_;
};

/// Percent-encodes an id for use as a path segment.
std::string encode_path_segment(const std::string& text);

}  // namespace worker::sync
