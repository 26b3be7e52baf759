#include "ingress/signature/signature_verifier.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <stdexcept>

#include "ingress/signature/base64.hpp"

namespace ingress::signature {

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

/// A keyed HMAC-SHA256 context: the prototype each thread duplicates once
/// (EVP_MAC_CTX_dup), so the key schedule is computed once per secret and thread.
struct SignatureVerifier::Key {
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx;
};

namespace {

using MacContext = std::unique_ptr<EVP_MAC_CTX, MacDeleter>;

/// Tells verifiers apart in ThreadContexts, even one built where another was freed.
std::atomic<std::uint64_t> next_instance{1};

/// This thread's copies of one verifier's keyed contexts. Re-initialising a keyed
/// context (EVP_MAC_init with no key) restores its precomputed state in place,
/// where a fresh EVP_MAC_CTX_dup per request cost eight allocations.
struct ThreadContexts {
  std::uint64_t instance = 0;
  std::vector<MacContext> contexts;
};
thread_local ThreadContexts thread_contexts;

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '.') return false;
  }
  return true;
}

bool parse_timestamp(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

SignatureVerifier::SignatureVerifier(std::vector<WebhookSecret> secrets,
                                     std::chrono::seconds tolerance)
    : instance_(next_instance.fetch_add(1)), tolerance_seconds_(tolerance.count()) {
  if (secrets.empty()) throw std::runtime_error("SignatureVerifier needs at least one secret");
  std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) throw std::runtime_error("OpenSSL: HMAC is not available");
  for (const auto& secret : secrets) {
    auto key = std::make_unique<Key>();
    key->ctx.reset(EVP_MAC_CTX_new(mac.get()));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!key->ctx ||
        EVP_MAC_init(key->ctx.get(), reinterpret_cast<const unsigned char*>(secret.key.data()),
                     secret.key.size(), params) != 1) {
      throw std::runtime_error("OpenSSL: cannot initialise HMAC-SHA256");
    }
    keys_.push_back(std::move(key));
  }
}

SignatureVerifier::~SignatureVerifier() = default;

void SignatureVerifier::mac(std::size_t index, std::string_view id, std::string_view timestamp,
                            std::string_view body, unsigned char (&out)[32]) const {
  ThreadContexts& local = thread_contexts;
  if (local.instance != instance_) {
    local.contexts.clear();
    for (const auto& key : keys_) {
      MacContext copy(EVP_MAC_CTX_dup(key->ctx.get()));
      if (!copy) throw std::runtime_error("OpenSSL: cannot copy an HMAC-SHA256 context");
      local.contexts.push_back(std::move(copy));
    }
    local.instance = instance_;
  }
  EVP_MAC_CTX* ctx = local.contexts.at(index).get();
  std::size_t length = 0;
  auto update = [ctx](std::string_view part) {
    return EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) ==
           1;
  };
  if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 || !update(id) || !update(".") ||
      !update(timestamp) || !update(".") || !update(body) ||
      EVP_MAC_final(ctx, out, &length, sizeof out) != 1 || length != sizeof out) {
    throw std::runtime_error("OpenSSL: HMAC-SHA256 failed");
  }
}

VerifyResult SignatureVerifier::verify(const WebhookHeaders& headers, std::string_view body,
                                       std::int64_t now_seconds) const {
  VerifyResult result;
  if (!valid_id(headers.id)) {
    result.error = VerifyError::kInvalidId;
    return result;
  }
  if (!parse_timestamp(headers.timestamp, result.timestamp)) {
    result.error = VerifyError::kInvalidTimestamp;
    return result;
  }
  // Inclusive at exactly the tolerance either way.
  if (result.timestamp < now_seconds - tolerance_seconds_) {
    result.error = VerifyError::kTimestampTooOld;
    return result;
  }
  if (result.timestamp > now_seconds + tolerance_seconds_) {
    result.error = VerifyError::kTimestampTooNew;
    return result;
  }
  std::string_view list = headers.signature;
  if (list.size() > kMaxSignatureHeaderBytes) {
    result.error = VerifyError::kInvalidSignatureHeader;
    return result;
  }

  std::array<std::array<unsigned char, 32>, kMaxSignatureEntries> candidates{};
  std::size_t candidate_count = 0;
  std::size_t entries = 0;
  while (!list.empty()) {
    std::size_t space = list.find(' ');
    std::string_view entry = list.substr(0, space);
    list = space == std::string_view::npos ? std::string_view{} : list.substr(space + 1);
    if (entry.empty()) continue;  // repeated spaces
    if (++entries > kMaxSignatureEntries) {
      result.error = VerifyError::kInvalidSignatureHeader;
      return result;
    }
    std::size_t comma = entry.find(',');
    if (comma == std::string_view::npos || entry.substr(0, comma) != "v1") continue;
    std::string_view encoded = entry.substr(comma + 1);
    std::array<unsigned char, 33> decoded{};  // one spare byte: longer values are rejected
    auto length = decode_base64(encoded, Padding::kRequired, decoded);
    if (!length || *length != 32) continue;
    std::copy_n(decoded.begin(), 32, candidates[candidate_count++].begin());
  }
  if (candidate_count == 0) {
    result.error = VerifyError::kNoMatchingSignature;
    return result;
  }
  for (std::size_t k = 0; k < keys_.size(); ++k) {
    unsigned char expected[32];
    mac(k, headers.id, headers.timestamp, body, expected);
    for (std::size_t c = 0; c < candidate_count; ++c) {
      if (CRYPTO_memcmp(expected, candidates[c].data(), 32) == 0) {
        result.secret_index = k;
        return result;
      }
    }
  }
  result.error = VerifyError::kNoMatchingSignature;
  return result;
}

std::string SignatureVerifier::sign(std::size_t index, std::string_view id, std::int64_t timestamp,
                                    std::string_view body) const {
  unsigned char out[32];
  std::string ts = std::to_string(timestamp);
  mac(index, id, ts, body, out);
  return "v1," + encode_base64(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

std::string_view to_code(VerifyError error) {
  switch (error) {
    case VerifyError::kNone:
      return "";
    case VerifyError::kInvalidId:
      return "invalid_id";
    case VerifyError::kInvalidTimestamp:
      return "invalid_timestamp";
    case VerifyError::kTimestampTooOld:
      return "timestamp_too_old";
    case VerifyError::kTimestampTooNew:
      return "timestamp_too_new";
    case VerifyError::kInvalidSignatureHeader:
      return "invalid_signature_header";
    case VerifyError::kNoMatchingSignature:
      return "no_matching_signature";
  }
  return "no_matching_signature";
}

}  // namespace ingress::signature
