#include "ingress/signature/webhook_secret.hpp"

#include "ingress/signature/base64.hpp"

namespace ingress::signature {

std::optional<WebhookSecret> parse_webhook_secret(std::string_view text, std::string& problem) {
  constexpr std::string_view kPrefix = "whsec_";
  if (text.substr(0, kPrefix.size()) == kPrefix) text.remove_prefix(kPrefix.size());
  if (text.empty()) {
    problem = "has nothing after the whsec_ prefix";
    return std::nullopt;
  }
  auto key = decode_base64(text, Padding::kOptional);
  if (!key) {
    problem = "is not standard base64 after the optional whsec_ prefix";
    return std::nullopt;
  }
  if (key->empty()) {
    problem = "decodes to no bytes";
    return std::nullopt;
  }
  return WebhookSecret{std::move(*key)};
}

}  // namespace ingress::signature
