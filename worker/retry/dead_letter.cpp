#include "worker/retry/dead_letter.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>

#include "common/events/event_contract.hpp"
#include "common/logging/logger.hpp"
#include "worker/apply/inbound_event.hpp"

namespace worker::retry {
namespace {

namespace header = common::events::header;

constexpr std::array kFailureHeaders = {
    header::kAttempt,        header::kNotBefore,         header::kErrorClass,
    header::kErrorMessage,   header::kOriginalTopic,     header::kOriginalPartition,
    header::kOriginalOffset, header::kOriginalTimestamp, header::kWorker,
};

const std::string* header_value(const common::kafka::ConsumedRecord& record,
                                std::string_view name) {
  const auto* h = common::kafka::find_header(record.headers, name);
  return h ? &h->value : nullptr;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Dead letters are often records the worker refused for their bytes (a malformed
// key, say); the listing must stay valid JSON whatever they hold.
void append_text(std::string& out, std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = apply::utf8_sequence_length(text, i);
    if (length == 0) {
      clean += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      clean.append(text.substr(i, length));
      i += length;
    }
  }
  common::logging::append_json_string(out, clean);
}

void append_key(std::string& out, std::string_view name) {
  out += out.size() > 1 ? ",\"" : "\"";
  out += name;
  out += "\":";
}

void append_text_field(std::string& out, std::string_view name, const std::string* value) {
  append_key(out, name);
  if (value == nullptr) {
    out += "null";
  } else {
    append_text(out, *value);
  }
}

void append_number_field(std::string& out, std::string_view name, const std::string* value) {
  append_key(out, name);
  if (value == nullptr) {
    out += "null";
  } else if (auto number = parse_integer(*value)) {
    out += std::to_string(*number);
  } else {
    append_text(out, *value);
  }
}

}  // namespace

bool is_failure_header(std::string_view name) {
  for (auto failure : kFailureHeaders) {
    if (name == failure) return true;
  }
  return false;
}

std::string dead_letter_event_id(const common::kafka::ConsumedRecord& dead_letter) {
  if (const auto* id = header_value(dead_letter, header::kEventId)) return *id;
  return apply::synthesised_event_id(dead_letter);
}

std::string dead_letter_json(const common::kafka::ConsumedRecord& dead_letter) {
  const auto& r = dead_letter;
  std::string out = "{";
  append_key(out, "dlq_partition");
  out += std::to_string(r.partition);
  append_key(out, "dlq_offset");
  out += std::to_string(r.offset);
  append_key(out, "dead_lettered_at");
  out += r.timestamp_ms >= 0 ? std::to_string(r.timestamp_ms) : "null";
  std::string event_id = dead_letter_event_id(r);
  append_text_field(out, "event_id", &event_id);
  append_text_field(out, "event_type", header_value(r, header::kEventType));
  append_number_field(out, "event_timestamp", header_value(r, header::kEventTimestamp));
  append_text_field(out, "key", r.key ? &*r.key : nullptr);
  append_text_field(out, "source", header_value(r, header::kSource));
  append_text_field(out, "error_class", header_value(r, header::kErrorClass));
  append_text_field(out, "error_message", header_value(r, header::kErrorMessage));
  append_text_field(out, "original_topic", header_value(r, header::kOriginalTopic));
  append_number_field(out, "original_partition", header_value(r, header::kOriginalPartition));
  append_number_field(out, "original_offset", header_value(r, header::kOriginalOffset));
  append_number_field(out, "original_timestamp", header_value(r, header::kOriginalTimestamp));
  append_number_field(out, "attempt", header_value(r, header::kAttempt));
  append_text_field(out, "worker", header_value(r, header::kWorker));
  append_key(out, "value_bytes");
  out += std::to_string(r.value.size());
  out += '}';
  return out;
}

common::kafka::OutgoingRecord replay_record(const common::kafka::ConsumedRecord& dead_letter,
                                            const std::string& topic) {
  common::kafka::OutgoingRecord out;
  out.topic = topic;
  out.key = dead_letter.key.value_or("");
  out.value = dead_letter.value;
  bool has_event_id = false;
  for (const auto& h : dead_letter.headers) {
    if (is_failure_header(h.name)) continue;
    has_event_id = has_event_id || h.name == header::kEventId;
    out.headers.push_back(h);
  }
  if (!has_event_id) {
    out.headers.push_back({std::string(header::kEventId), dead_letter_event_id(dead_letter)});
  }
  return out;
}

}  // namespace worker::retry
