#include "worker/apply/inbound_event.hpp"

#include <algorithm>
#include <charconv>

#include "common/events/event_contract.hpp"

namespace worker::apply {
namespace {

namespace header = common::events::header;
using common::events::DecodeStatus;
using common::events::EventAction;

constexpr std::size_t kMaxIdBytes = 255;

std::optional<std::string_view> header_value(const common::kafka::ConsumedRecord& record,
                                             std::string_view name) {
  const auto* h = common::kafka::find_header(record.headers, name);
  if (h == nullptr) return std::nullopt;
  return std::string_view(h->value);
}

std::optional<std::int64_t> header_integer(const common::kafka::ConsumedRecord& record,
                                           std::string_view name) {
  auto text = header_value(record, name);
  if (!text || text->empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
  return value;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  static constexpr std::uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
  auto c = static_cast<unsigned char>(text[at]);
  if (c < 0x80) return 1;
  std::size_t extra = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    extra = 1;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (text.size() - at <= extra) return 0;
  for (std::size_t k = 1; k <= extra; ++k) {
    auto cc = static_cast<unsigned char>(text[at + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if (cp < kSmallest[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return extra + 1;
}

bool printable_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return false;
    std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// Without an event-id header (a hand-made record) the event is named by where it
// was first written, which a retry copy carries in its original-* headers.
std::string synthesised_event_id(const common::kafka::ConsumedRecord& record) {
  auto topic = header_value(record, header::kOriginalTopic);
  auto partition = header_value(record, header::kOriginalPartition);
  auto offset = header_value(record, header::kOriginalOffset);
  if (topic && partition && offset) {
    return "kafka:" + std::string(*topic) + ":" + std::string(*partition) + ":" +
           std::string(*offset);
  }
  return "kafka:" + record.topic + ":" + std::to_string(record.partition) + ":" +
         std::to_string(record.offset);
}

bool InboundEvent::has_fields() const {
  return status == InboundStatus::kMirrored &&
         !std::holds_alternative<std::monostate>(decoded.fields);
}

bool InboundEvent::is_delete() const {
  return status == InboundStatus::kMirrored && decoded.route.action == EventAction::kDelete;
}

OrderKey InboundEvent::fields_key() const {
  std::int64_t ts = event_ts_ms.value_or(0);
  return {decoded.updated_at_ms().value_or(ts), ts, event_id};
}

OrderKey InboundEvent::deletion_key() const {
  std::int64_t ts = event_ts_ms.value_or(0);
  return {ts, ts, event_id};
}

std::int64_t InboundEvent::version() const {
  return is_delete() ? deletion_key().version : fields_key().version;
}

InboundEvent read_inbound(common::kafka::ConsumedRecord record,
                          common::events::EntityDecoder& decoder) {
  InboundEvent event;
  event.record = std::move(record);
  const auto& r = event.record;

  auto id = header_value(r, header::kEventId);
  event.event_id = id && !id->empty() ? std::string(*id) : synthesised_event_id(r);
  auto source = header_value(r, header::kSource);
  event.source = source && !source->empty() ? std::string(*source) : "webhook";
  if (source && (!printable_utf8(*source) || source->size() > 64)) event.source = "invalid";
  event.attempt = static_cast<int>(
      std::clamp<std::int64_t>(header_integer(r, header::kAttempt).value_or(0), 0, 1000));
  event.not_before_ms = header_integer(r, header::kNotBefore);

  auto fail = [&event](std::string why) {
    event.status = InboundStatus::kMalformed;
    event.error = std::move(why);
    if (!printable_utf8(event.event_type) || event.event_type.size() > 128) event.event_type = "";
    return event;
  };
  if (event.event_id.size() > kMaxIdBytes || !printable_utf8(event.event_id)) {
    event.event_id = synthesised_event_id(r);
    return fail("the event-id header is not a printable UTF-8 string of at most 255 bytes");
  }

  auto decoded = decoder.decode(r.value);
  event.event_type = decoded.type;
  if (event.event_type.empty()) {
    auto type = header_value(r, header::kEventType);
    if (type) event.event_type = std::string(*type);
  }
  auto header_ts = header_integer(r, header::kEventTimestamp);
  if (header_ts) event.event_ts_ms = common::events::event_time_ms(*header_ts);
  switch (decoded.status) {
    case DecodeStatus::kMalformed:
      return fail(decoded.error);
    case DecodeStatus::kIgnored:
      event.status = InboundStatus::kIgnored;
      if (!printable_utf8(event.event_type) || event.event_type.size() > 128) {
        return fail("the event type is not a printable string of at most 128 bytes");
      }
      return event;
    case DecodeStatus::kDecoded:
      break;
  }
  event.decoded = std::move(decoded.event);
  if (event.decoded.timestamp_ms) event.event_ts_ms = event.decoded.timestamp_ms;
  event.status = InboundStatus::kMirrored;
  if (event.is_delete() && !event.event_ts_ms) {
    return fail("a deletion needs an envelope timestamp (or an event-timestamp header)");
  }
  if (event.has_fields() && !event.decoded.updated_at_ms() && !event.event_ts_ms) {
    return fail("no version: data.updated_at and the event timestamp are both missing");
  }
  return event;
}

}  // namespace worker::apply
