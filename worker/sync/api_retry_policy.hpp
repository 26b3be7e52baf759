#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "worker/sync/http_transport.hpp"

namespace worker::sync {

struct ApiRetrySettings {
  int max_attempts = 8;  ///< per request, counting the first; then the request fails
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};  ///< cap of the doubling backoff
  std::chrono::milliseconds max_retry_after{
      600000};  ///< longer Retry-After values fail the request
  /// 429 answers in a row a request waits out before it fails. A 429 is the server
  /// saying when to come back (a rate budget shared with the application), not a
  /// failure of the request: it uses up none of max_attempts.
  int max_throttled = 100;
};

/// What the API client does after one attempt.
enum class ApiVerdict {
  kAccept,    ///< 2xx: decode the body
  kNotFound,  ///< 404: the entity does not exist (a value, not an error)
  kRetry,     ///< throttled, 5xx, timeout, connection failure: wait `delay`, try again
  kFail,      ///< other 4xx, or out of attempts: raise ApiError
};

struct ApiDecision {
  ApiVerdict verdict = ApiVerdict::kAccept;
  std::chrono::milliseconds delay{0};
  bool throttled = false;  ///< the server asked for a pause: hold every request, not just this one
  std::string reason;      ///< e.g. "HTTP 503", "timed out": for logs and errors
};

/// Classifies API responses and computes waits. Pure: no I/O, no clock (the
/// wall time needed for an HTTP-date Retry-After is passed in). Immutable;
/// safe to share.
class ApiRetryPolicy {
 public:
  explicit ApiRetryPolicy(ApiRetrySettings settings) : settings_(settings) {}
  /// `attempt` counts from 1 the attempts that were not throttled, this one
  /// included unless `response` is a 429; `throttled` counts the 429 answers in a
  /// row, this one included.
  ApiDecision decide(const HttpResponse& response, int attempt, std::int64_t wall_now_ms,
                     int throttled = 0) const;
  /// initial * 2^(attempt-1), capped at max_backoff.
  std::chrono::milliseconds backoff(int attempt) const;
  const ApiRetrySettings& settings() const { return settings_; }

 private:
  ApiRetrySettings settings_;
};

/// Parses a Retry-After value: delta seconds ("12", fractions allowed) or an
/// HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to `wall_now_ms`.
/// nullopt when unparsable; a date in the past gives zero.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t wall_now_ms);

}  // namespace worker::sync
