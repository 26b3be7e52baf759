#include "worker/retry/failure_copy.hpp"

#include <algorithm>
#include <array>

#include "common/events/event_contract.hpp"

namespace worker::retry {
namespace {

namespace header = common::events::header;

constexpr std::size_t kMaxMessageBytes = 1000;

// Cuts at a UTF-8 character boundary so the header stays valid text.
std::string truncate_utf8(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return text.substr(0, cut);
}

}  // namespace

common::kafka::OutgoingRecord failure_copy(const apply::InboundEvent& event,
                                           const std::string& base_topic, const NextHop& hop,
                                           const apply::EventFailure& failure,
                                           const std::string& worker_name) {
  const auto& record = event.record;
  common::kafka::OutgoingRecord out;
  out.topic = hop.retry_level > 0 ? common::events::retry_topic(base_topic, hop.retry_level)
                                  : common::events::dead_letter_topic(base_topic);
  out.key = record.key.value_or("");
  out.value = record.value;

  static constexpr std::array kReplaced = {header::kAttempt, header::kNotBefore,
                                           header::kErrorClass, header::kErrorMessage,
                                           header::kWorker};
  bool has_original = common::kafka::find_header(record.headers, header::kOriginalTopic) != nullptr;
  bool has_event_id = common::kafka::find_header(record.headers, header::kEventId) != nullptr;
  for (const auto& h : record.headers) {
    if (std::find(kReplaced.begin(), kReplaced.end(), h.name) != kReplaced.end()) continue;
    out.headers.push_back(h);
  }
  if (!has_event_id) out.headers.push_back({std::string(header::kEventId), event.event_id});
  if (!has_original) {
    out.headers.push_back({std::string(header::kOriginalTopic), record.topic});
    out.headers.push_back(
        {std::string(header::kOriginalPartition), std::to_string(record.partition)});
    out.headers.push_back({std::string(header::kOriginalOffset), std::to_string(record.offset)});
    out.headers.push_back(
        {std::string(header::kOriginalTimestamp), std::to_string(record.timestamp_ms)});
  }
  int attempt = hop.retry_level > 0 ? hop.retry_level : event.attempt + 1;
  out.headers.push_back({std::string(header::kAttempt), std::to_string(attempt)});
  if (hop.retry_level > 0) {
    out.headers.push_back({std::string(header::kNotBefore), std::to_string(hop.not_before_ms)});
  }
  out.headers.push_back({std::string(header::kErrorClass), failure.error_class});
  out.headers.push_back(
      {std::string(header::kErrorMessage), truncate_utf8(failure.message, kMaxMessageBytes)});
  out.headers.push_back({std::string(header::kWorker), worker_name});
  return out;
}

}  // namespace worker::retry
