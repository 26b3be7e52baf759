#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ingress::signature {

/// One HMAC key: the decoded bytes of a configured `whsec_<base64>` secret.
struct WebhookSecret {
  std::string key;
};

/// Parses one configured secret: an optional `whsec_` prefix, then standard base64
/// (padding optional), decoding to at least one byte. On failure returns nullopt and
/// sets `problem` to a sentence that never contains the secret. Pure.
std::optional<WebhookSecret> parse_webhook_secret(std::string_view text, std::string& problem);

}  // namespace ingress::signature
