#include "worker/sync/clerk_api_client.hpp"

#include <cctype>

#include "common/logging/logger.hpp"

namespace worker::sync {
namespace {

std::string list_endpoint(EntityKind kind, const std::string& organization_id) {
  switch (kind) {
    case EntityKind::kUser:
      return "/v1/users";
    case EntityKind::kOrganization:
      return "/v1/organizations";
    case EntityKind::kMembership:
      return "/v1/organizations/" + encode_path_segment(organization_id) + "/memberships";
  }
  return "/v1/users";
}

std::string snippet(const std::string& body) {
  constexpr std::size_t kMax = 200;
  std::string out = body.size() > kMax ? body.substr(0, kMax) + "..." : body;
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

std::string encode_path_segment(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

ClerkApiClient::ClerkApiClient(ClerkApiSettings settings, HttpTransport& transport, Clock& clock,
                               common::logging::Logger& logger)
    : settings_(std::move(settings)),
      transport_(transport),
      clock_(clock),
      logger_(logger),
      policy_(settings_.retry),
      limiter_(settings_.requests_per_second) {
  while (!settings_.base_url.empty() && settings_.base_url.back() == '/')
    settings_.base_url.pop_back();
}

ApiPage ClerkApiClient::list(EntityKind kind, const std::string& organization_id, int limit,
                             std::int64_t offset) {
  std::string endpoint = list_endpoint(kind, organization_id) + "?limit=" + std::to_string(limit) +
                         "&offset=" + std::to_string(offset) + "&order_by=-created_at";
  auto body = fetch(endpoint);
  if (!body) throw ApiError("GET " + endpoint, 404, "HTTP 404: not found");
  try {
    return kind == EntityKind::kUser ? clerk_response::decode_array(*body, kind)
                                     : clerk_response::decode_paginated(*body, kind);
  } catch (const DecodeError& e) {
    throw ApiError("GET " + endpoint, 200, std::string("unexpected body: ") + e.what());
  }
}

std::int64_t ClerkApiClient::count(EntityKind kind, const std::string& organization_id) {
  if (kind == EntityKind::kUser) {
    std::string endpoint = "/v1/users/count";
    auto body = fetch(endpoint);
    if (!body) throw ApiError("GET " + endpoint, 404, "HTTP 404: not found");
    try {
      return clerk_response::decode_total_count(*body);
    } catch (const DecodeError& e) {
      throw ApiError("GET " + endpoint, 200, std::string("unexpected body: ") + e.what());
    }
  }
  ApiPage page = list(kind, organization_id, 1, 0);
  if (!page.total_count) {
    throw ApiError("GET " + list_endpoint(kind, organization_id), 200,
                   "unexpected body: no total_count");
  }
  return *page.total_count;
}

std::optional<ApiEntity> ClerkApiClient::get(EntityKind kind, const std::string& id) {
  std::string endpoint =
      (kind == EntityKind::kUser ? "/v1/users/" : "/v1/organizations/") + encode_path_segment(id);
  auto body = fetch(endpoint);
  if (!body) return std::nullopt;
  try {
    return clerk_response::decode_entity(*body, kind);
  } catch (const DecodeError& e) {
    throw ApiError("GET " + endpoint, 200, std::string("unexpected body: ") + e.what());
  }
}

std::optional<std::string> ClerkApiClient::fetch(const std::string& endpoint) {
  const std::string url = settings_.base_url + endpoint;
  const std::vector<std::string> headers = {"Authorization: Bearer " + settings_.secret_key,
                                            "Accept: application/json"};
  int attempt = 1;    // attempts that were not throttled (CLERK_API_MAX_ATTEMPTS)
  int throttled = 0;  // 429 answers in a row
  for (bool first = true;; first = false) {
    if (!clock_.sleep_until(limiter_.acquire(clock_.now()))) {
      throw ApiError("GET " + endpoint, 0, "stopped");
    }
    ++stats_.requests;
    if (!first) ++stats_.retries;
    auto sent_at = clock_.now();
    HttpResponse response = transport_.get(url, headers, settings_.timeout);
    bool too_many_requests =
        response.transport == HttpResponse::Transport::kCompleted && response.status == 429;
    throttled = too_many_requests ? throttled + 1 : 0;
    ApiDecision decision = policy_.decide(response, attempt, clock_.wall_ms(), throttled);
    if (logger_.enabled(common::logging::Level::kDebug)) {
      logger_.debug(
          "clerk api request",
          {{"endpoint", "GET " + endpoint},
           {"result", decision.reason},
           {"attempt", attempt},
           {"ms", static_cast<std::int64_t>(
                      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - sent_at)
                          .count())}});
    }
    if (response.status == 429) ++stats_.throttled;
    switch (decision.verdict) {
      case ApiVerdict::kAccept:
        return std::move(response.body);
      case ApiVerdict::kNotFound:
        return std::nullopt;
      case ApiVerdict::kFail: {
        std::string detail = decision.reason;
        if (!response.body.empty()) detail += ": " + snippet(response.body);
        throw ApiError("GET " + endpoint, response.status, detail);
      }
      case ApiVerdict::kRetry:
        break;
    }
    auto resume_at = clock_.now() + decision.delay;
    // A throttle pauses every request of this client, not only this one.
    if (decision.throttled) limiter_.hold_until(resume_at);
    logger_.warn("clerk api request will be retried",
                 {{"endpoint", "GET " + endpoint},
                  {"reason", decision.reason},
                  {"attempt", attempt},
                  {"retry_in_ms", static_cast<std::int64_t>(decision.delay.count())}});
    if (!clock_.sleep_until(resume_at)) throw ApiError("GET " + endpoint, 0, "stopped");
    if (!too_many_requests) ++attempt;  // a 429 says when to come back: it uses no attempt
  }
}

}  // namespace worker::sync
