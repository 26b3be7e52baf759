#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "common/events/entity_decoder.hpp"
#include "common/kafka/kafka_record.hpp"
#include "worker/apply/order_key.hpp"

namespace worker::apply {

/// What the worker makes of one consumed record before touching the database.
enum class InboundStatus {
  kMirrored,   ///< a user/organization/membership event with a usable payload
  kIgnored,    ///< a valid envelope of a type the mirror does not keep
  kMalformed,  ///< unusable on its own: goes straight to the dead-letter topic
};

/// One consumed record as the worker sees it: the record itself (kept whole, so
/// it can be re-published byte for byte to a retry or dead-letter topic), its
/// contract headers and its decoded payload. Value type.
struct InboundEvent {
  common::kafka::ConsumedRecord record;
  InboundStatus status = InboundStatus::kMalformed;
  std::string error;       ///< why, for kMalformed
  std::string event_id;    ///< header event-id (svix-id), else synthesised from the position
  std::string event_type;  ///< envelope type, else header event-type, else ""
  std::string source;      ///< header source, "webhook" when absent
  int attempt = 0;         ///< header attempt: 0 on the main topic, n on <topic>.retry.n
  std::optional<std::int64_t> not_before_ms;  ///< header not-before (retry copies)
  std::optional<std::int64_t> event_ts_ms;    ///< envelope timestamp, else header event-timestamp
  common::events::DecodedEvent decoded;       ///< valid for kMirrored

  /// Order key of the fields half (upserts, and membership deletions which carry
  /// the membership as it was). Valid for kMirrored events with fields.
  OrderKey fields_key() const;
  /// Order key of the deletion half. Valid for kMirrored deletions.
  OrderKey deletion_key() const;
  bool has_fields() const;
  bool is_delete() const;
  /// The event's version for the audit trail (fields version, or deletion version).
  std::int64_t version() const;
};

/// Builds an InboundEvent from a consumed record: reads the contract headers
/// (common/events/event_contract.hpp), decodes the value, and checks what the
/// database will need (a version for every write, printable ids). Pure apart from
/// the decoder's buffers.
InboundEvent read_inbound(common::kafka::ConsumedRecord record,
                          common::events::EntityDecoder& decoder);

/// True when `text` is valid UTF-8 with no control characters (NUL included).
bool printable_utf8(std::string_view text);

/// Length of the valid UTF-8 sequence starting at `at` (< text.size()), 0 when
/// there is none (stray continuation byte, truncated, overlong, surrogate, past
/// U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

/// The event id of a record without an event-id header: where it was first
/// written ("kafka:<topic>:<partition>:<offset>", from a retry or dead-letter
/// copy's original-* headers when present, else the record's own position).
std::string synthesised_event_id(const common::kafka::ConsumedRecord& record);

}  // namespace worker::apply
