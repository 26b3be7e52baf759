#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace common::events {

/// Why a body is not an envelope the pipeline can keep. Each value is one
/// rejection code of the ingress (see to_code()).
enum class EnvelopeError {
  kNone,
  kInvalidJson,      ///< not JSON: empty, truncated, trailing bytes, BOM, comments, NaN,
                     ///< nesting deeper than kMaxDepth, numbers out of range
  kInvalidUtf8,      ///< bytes that are not UTF-8 anywhere in the document
  kNulInString,      ///< `\u0000` in a string or key (jsonb cannot store it)
  kDuplicateKey,     ///< one object names the same key twice (parser differentials)
  kInvalidEnvelope,  ///< valid JSON, but not an object with a string `type` and an object `data`
};

/// The rejection code for `error` ("invalid_json", ...); "" for kNone.
std::string_view to_code(EnvelopeError error);

/// What the pipeline reads from an envelope before it is published: enough to
/// choose the Kafka key and the headers. The body itself is never re-serialised.
struct EnvelopeFacts {
  std::string type;                                 ///< envelope `type`
  std::optional<std::int64_t> timestamp_ms;         ///< envelope `timestamp`, normalised to ms
  std::optional<std::string> data_id;               ///< `data.id` when a non-empty string
  std::optional<std::string> data_organization_id;  ///< `data.organization.id`
  std::optional<std::string> data_organization_id_field;  ///< `data.organization_id`
  std::optional<std::string> data_user_id;                ///< `data.user_id`
};

/// What decode() found: the facts when ok(), else why not (an expected outcome, not
/// an exception).
struct EnvelopeDecodeResult {
  EnvelopeError error = EnvelopeError::kNone;
  std::string detail;  ///< one short sentence for the HTTP answer; never quotes the body
  EnvelopeFacts facts;
  bool ok() const { return error == EnvelopeError::kNone; }
};

/// Strict validation of a webhook body as a Clerk envelope, with simdjson (the one
/// place it is included). Rejects what JSON or PostgreSQL's jsonb would not keep
/// faithfully: invalid UTF-8, `\u0000`, duplicate keys, depth over kMaxDepth,
/// numbers that do not fit a 64-bit integer or a double. Then checks the envelope
/// shape and extracts EnvelopeFacts.
///
/// Thread-safe: decode() may run on many threads at once. It borrows a parser from
/// a small pool (parsers that grew past kPooledCapacity are not kept, so one large
/// body does not pin memory). Pure apart from that cache: no I/O, no clock.
class EnvelopeCodec {
 public:
  static constexpr std::size_t kMaxDepth = 64;
  static constexpr std::size_t kPooledCapacity = 64 * 1024;

  EnvelopeCodec();
  ~EnvelopeCodec();
  EnvelopeCodec(const EnvelopeCodec&) = delete;
  EnvelopeCodec& operator=(const EnvelopeCodec&) = delete;

  EnvelopeDecodeResult decode(std::string_view body) const;

 private:
  struct Parser;
  std::unique_ptr<Parser> acquire() const;
  void release(std::unique_ptr<Parser> parser) const;

  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Parser>> pool_;
};

}  // namespace common::events
