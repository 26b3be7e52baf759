#include "ingress/signature/webhook_headers.hpp"

#include <array>
#include <optional>

namespace ingress::signature {
namespace {

constexpr std::array<std::string_view, 3> kFields = {"id", "timestamp", "signature"};
constexpr std::array<std::string_view, 2> kFamilies = {"svix-", "webhook-"};

// Index 0..5 of a Standard Webhooks header name: family * 3 + field; -1 for others.
int header_index(std::string_view name) {
  for (std::size_t family = 0; family < kFamilies.size(); ++family) {
    if (name.substr(0, kFamilies[family].size()) != kFamilies[family]) continue;
    std::string_view field = name.substr(kFamilies[family].size());
    for (std::size_t f = 0; f < kFields.size(); ++f) {
      if (field == kFields[f]) return static_cast<int>(family * kFields.size() + f);
    }
  }
  return -1;
}

std::string header_name(std::size_t index) {
  return std::string(kFamilies[index / kFields.size()]) +
         std::string(kFields[index % kFields.size()]);
}

}  // namespace

HeaderExtraction extract_webhook_headers(
    std::span<const std::pair<std::string, std::string>> headers) {
  HeaderExtraction result;
  std::array<std::optional<std::string_view>, 6> found;
  for (const auto& [name, value] : headers) {
    int index = header_index(name);
    if (index < 0) continue;
    if (found[index]) {
      result.error = HeaderError::kDuplicate;
      result.detail = header_name(static_cast<std::size_t>(index)) + " appears more than once";
      return result;
    }
    found[index] = value;
  }
  std::array<std::string_view, 3> values;
  for (std::size_t f = 0; f < kFields.size(); ++f) {
    const auto& svix = found[f];
    const auto& webhook = found[kFields.size() + f];
    if (svix && webhook && *svix != *webhook) {
      result.error = HeaderError::kConflicting;
      result.detail = header_name(f) + " and " + header_name(kFields.size() + f) + " differ";
      return result;
    }
  }
  for (std::size_t f = 0; f < kFields.size(); ++f) {
    const auto& chosen = found[f] ? found[f] : found[kFields.size() + f];
    if (!chosen) {
      result.error = HeaderError::kMissing;
      result.detail = header_name(f) + " (or " + header_name(kFields.size() + f) + ") is missing";
      return result;
    }
    values[f] = *chosen;
  }
  result.headers = {values[0], values[1], values[2]};
  return result;
}

}  // namespace ingress::signature
