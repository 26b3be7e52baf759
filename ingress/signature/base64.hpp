#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ingress::signature {

enum class Padding {
  kRequired,  ///< length a multiple of 4, `=` padding present (what signers emit)
  kOptional,  ///< padding may be left out (secrets pasted by hand); if present it must be right
};

/// Decodes standard-alphabet base64 (RFC 4648 section 4) into `out`. Strict: rejects
/// characters outside the alphabet (including whitespace and the URL-safe `-_`),
/// `=` anywhere but at the end, impossible lengths and non-zero unused bits, so a
/// byte string has exactly one accepted encoding. Returns the decoded length, or
/// nullopt when the text is invalid or does not fit `out`. Pure.
std::optional<std::size_t> decode_base64(std::string_view text, Padding padding,
                                         std::span<unsigned char> out);

/// Decodes into a string; nullopt when invalid. Pure.
std::optional<std::string> decode_base64(std::string_view text, Padding padding);

/// Encodes with padding (what Standard Webhooks signatures use). Pure.
std::string encode_base64(std::string_view bytes);

}  // namespace ingress::signature
