#pragma once
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace ingress::signature {

/// The three Standard Webhooks values, from `svix-*` or `webhook-*` headers.
/// Views into the request's header storage.
struct WebhookHeaders {
  std::string_view id;
  std::string_view timestamp;
  std::string_view signature;
};

enum class HeaderError {
  kNone,
  kDuplicate,    ///< one of the six header names appears twice
  kConflicting,  ///< `svix-x` and `webhook-x` both present with different values
  kMissing,      ///< id, timestamp or signature absent under both names
};

/// The three values, or which rule the headers broke.
struct HeaderExtraction {
  HeaderError error = HeaderError::kNone;
  std::string detail;  ///< names the header at fault
  WebhookHeaders headers;
  bool ok() const { return error == HeaderError::kNone; }
};

/// Picks id, timestamp and signature from `headers` (names already lower-case).
/// Each may come as `svix-*` or `webhook-*`; when both are present they must be
/// equal. Checked in this order: duplicates, conflicts, missing. Pure.
HeaderExtraction extract_webhook_headers(
    std::span<const std::pair<std::string, std::string>> headers);

}  // namespace ingress::signature
