#include "worker/sync/api_retry_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

namespace worker::sync {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::optional<std::chrono::milliseconds> parse_delta_seconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return std::nullopt;
  }
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(seconds))
    return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000.0)));
}

int parse_int(std::string_view text) {
  int value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return -1;
  return value;
}

// IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"), the form RFC 9110 requires senders to use.
std::optional<std::int64_t> parse_http_date_ms(std::string_view text) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text[3] != ',' || text.substr(26) != "GMT") return std::nullopt;
  int day = parse_int(text.substr(5, 2));
  auto month_it = std::find(kMonths.begin(), kMonths.end(), text.substr(8, 3));
  int year = parse_int(text.substr(12, 4));
  int hour = parse_int(text.substr(17, 2));
  int minute = parse_int(text.substr(20, 2));
  int second = parse_int(text.substr(23, 2));
  if (day < 1 || month_it == kMonths.end() || year < 1970 || hour < 0 || minute < 0 || second < 0)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(month_it - kMonths.begin());
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t wall_now_ms) {
  value = trim(value);
  if (auto delta = parse_delta_seconds(value)) return delta;
  if (auto at = parse_http_date_ms(value)) {
    return std::chrono::milliseconds(std::max<std::int64_t>(0, *at - wall_now_ms));
  }
  return std::nullopt;
}

std::chrono::milliseconds ApiRetryPolicy::backoff(int attempt) const {
  auto delay = settings_.initial_backoff;
  for (int i = 1; i < attempt && delay < settings_.max_backoff; ++i)
    delay *= 2;
  return std::min(delay, settings_.max_backoff);
}

ApiDecision ApiRetryPolicy::decide(const HttpResponse& response, int attempt,
                                   std::int64_t wall_now_ms, int throttled) const {
  ApiDecision decision;
  bool retryable = false;
  switch (response.transport) {
    case HttpResponse::Transport::kTimedOut:
      decision.reason = "timed out";
      retryable = true;
      break;
    case HttpResponse::Transport::kConnectFailed:
      decision.reason = "connection failed: " + response.error;
      retryable = true;
      break;
    case HttpResponse::Transport::kFailed:
      decision.reason = "request failed: " + response.error;
      break;
    case HttpResponse::Transport::kCompleted:
      decision.reason = "HTTP " + std::to_string(response.status);
      if (response.status >= 200 && response.status < 300) {
        decision.verdict = ApiVerdict::kAccept;
        return decision;
      }
      if (response.status == 404) {
        decision.verdict = ApiVerdict::kNotFound;
        return decision;
      }
      retryable = response.status == 429 || response.status == 408 || response.status >= 500;
      break;
  }
  if (!retryable) {
    decision.verdict = ApiVerdict::kFail;
    return decision;
  }
  bool too_many_requests =
      response.transport == HttpResponse::Transport::kCompleted && response.status == 429;
  if (too_many_requests ? throttled >= settings_.max_throttled
                        : attempt >= settings_.max_attempts) {
    decision.verdict = ApiVerdict::kFail;
    decision.reason += too_many_requests
                           ? " (gave up after " + std::to_string(throttled) + " in a row)"
                           : " (gave up after " + std::to_string(attempt) + " attempts)";
    return decision;
  }
  decision.verdict = ApiVerdict::kRetry;
  decision.delay = backoff(attempt);
  bool completed = response.transport == HttpResponse::Transport::kCompleted;
  if (completed && (response.status == 429 || response.status == 503)) {
    decision.throttled = response.status == 429;
    if (auto wait = parse_retry_after(response.retry_after, wall_now_ms)) {
      if (*wait > settings_.max_retry_after) {
        decision.verdict = ApiVerdict::kFail;
        decision.reason += " with Retry-After " + response.retry_after + " (longer than allowed)";
        return decision;
      }
      // The server's word wins over our own backoff, in both directions.
      decision.delay = *wait;
      decision.throttled = true;
    }
  }
  return decision;
}

}  // namespace worker::sync
