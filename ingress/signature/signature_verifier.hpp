#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ingress/signature/webhook_headers.hpp"
#include "ingress/signature/webhook_secret.hpp"

namespace ingress::signature {

/// Why a delivery failed verification. Expected outcomes, not exceptions.
enum class VerifyError {
  kNone,
  kInvalidId,               ///< empty, over 256 bytes, `.`, space, control or non-ASCII bytes
  kInvalidTimestamp,        ///< not 1 to 19 plain decimal digits
  kTimestampTooOld,         ///< more than the tolerance in the past
  kTimestampTooNew,         ///< more than the tolerance in the future
  kInvalidSignatureHeader,  ///< over 4 KiB or more than 10 entries
  kNoMatchingSignature,     ///< no `v1,` entry matches any configured secret
};

/// The outcome of one verification; which secret matched when ok().
struct VerifyResult {
  VerifyError error = VerifyError::kNone;
  std::size_t secret_index = 0;  ///< which configured secret matched (when ok)
  std::int64_t timestamp = 0;    ///< the parsed delivery timestamp, seconds
  bool ok() const { return error == VerifyError::kNone; }
};

/// Bounds on the signature header (they bound the HMAC work per request).
inline constexpr std::size_t kMaxSignatureHeaderBytes = 4096;
inline constexpr std::size_t kMaxSignatureEntries = 10;
inline constexpr std::size_t kMaxIdBytes = 256;

/// Standard Webhooks verification: HMAC-SHA256 over `id.timestamp.body` keyed by
/// each configured secret; the signature header is a space-separated list of
/// `<version>,<base64>` entries and any `v1` entry matching any secret is enough
/// (rotation); other versions and malformed entries are skipped. Cheap checks (id,
/// timestamp format, tolerance, header bounds) run before any HMAC; comparisons
/// are constant-time (CRYPTO_memcmp) over the decoded 32 bytes, and a `v1` entry
/// must be the canonical padded base64 a signer emits.
///
/// Immutable after construction; verify() is safe from many threads at once: each
/// thread keeps its own copies of the keyed contexts.
/// The only OpenSSL user in the ingress.
class SignatureVerifier {
 public:
  /// `secrets` must not be empty. Throws std::runtime_error when OpenSSL cannot
  /// set up HMAC-SHA256 (translates EVP_MAC_fetch / EVP_MAC_init failures).
  SignatureVerifier(std::vector<WebhookSecret> secrets, std::chrono::seconds tolerance);
  ~SignatureVerifier();
  SignatureVerifier(const SignatureVerifier&) = delete;
  SignatureVerifier& operator=(const SignatureVerifier&) = delete;

  /// `now_seconds`: the caller's clock (injected, for tests). Pure otherwise.
  VerifyResult verify(const WebhookHeaders& headers, std::string_view body,
                      std::int64_t now_seconds) const;

  /// `v1,<base64>` for `id.timestamp.body` with secret `index`: for tests and the
  /// benchmark's load generator.
  std::string sign(std::size_t index, std::string_view id, std::int64_t timestamp,
                   std::string_view body) const;

  std::size_t secret_count() const { return keys_.size(); }

 private:
  struct Key;
  void mac(std::size_t index, std::string_view id, std::string_view timestamp,
           std::string_view body, unsigned char (&out)[32]) const;

  std::vector<std::unique_ptr<Key>> keys_;
  std::uint64_t instance_;  // identifies this verifier's per-thread contexts
  std::int64_t tolerance_seconds_;
};

/// The rejection code of a VerifyError ("invalid_id", ...); "" for kNone.
std::string_view to_code(VerifyError error);

}  // namespace ingress::signature
