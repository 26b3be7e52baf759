#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// The event contract shared by every producer (ingress, backfill, reconcile,
/// sync, retry) and the worker. schemas/events.md is its prose form; change
/// both together.
namespace common::events {

/// Kafka record header names.
namespace header {
inline constexpr std::string_view kEventId = "event-id";      ///< svix-id, or a synthetic id
inline constexpr std::string_view kEventType = "event-type";  ///< envelope `type`
inline constexpr std::string_view kEventTimestamp =
    "event-timestamp";                                                ///< envelope `timestamp`, ms
inline constexpr std::string_view kSvixTimestamp = "svix-timestamp";  ///< delivery attempt, s
inline constexpr std::string_view kSource = "source";  ///< webhook | backfill | reconcile | sync
inline constexpr std::string_view kReceivedAt = "received-at";  ///< ms since epoch, ingress clock
// Set on retry and dead-letter copies:
inline constexpr std::string_view kAttempt = "attempt";
inline constexpr std::string_view kNotBefore = "not-before";  ///< ms since epoch
inline constexpr std::string_view kErrorClass = "error-class";
inline constexpr std::string_view kErrorMessage = "error-message";
inline constexpr std::string_view kOriginalTopic = "original-topic";
inline constexpr std::string_view kOriginalPartition = "original-partition";
inline constexpr std::string_view kOriginalOffset = "original-offset";
inline constexpr std::string_view kOriginalTimestamp = "original-timestamp";
inline constexpr std::string_view kWorker = "worker";
}  // namespace header

enum class Source { kWebhook, kBackfill, kReconcile, kSync };

constexpr std::string_view to_string(Source source) {
  switch (source) {
    case Source::kWebhook:
      return "webhook";
    case Source::kBackfill:
      return "backfill";
    case Source::kReconcile:
      return "reconcile";
    case Source::kSync:
      return "sync";
  }
  return "webhook";
}

/// An envelope or header timestamp in milliseconds since the epoch. Clerk documents
/// milliseconds; some published examples use seconds. Values below 10^11 (1973 in
/// ms, the year 5138 in s) are read as seconds. Negative values: nullopt. Pure.
constexpr std::optional<std::int64_t> epoch_ms(std::int64_t value) {
  constexpr std::int64_t kSecondsBelow = 100'000'000'000;
  if (value < 0) return std::nullopt;
  return value < kSecondsBelow ? value * 1000 : value;
}

/// An event's own time (the envelope's `timestamp`, the `event-timestamp` header) in
/// milliseconds. Like epoch_ms, except that a value in whole seconds stands for the
/// last millisecond of its second: the event happened somewhere within it, and a
/// deletion stamped 12:00:00 must still come after an update of the same entity
/// whose updated_at is 12:00:00.400 (a deletion is an entity's last event, so
/// placing it late in its second can only be right). Pure.
constexpr std::optional<std::int64_t> event_time_ms(std::int64_t value) {
  auto ms = epoch_ms(value);
  if (ms && *ms != value) return *ms + 999;
  return ms;
}

inline std::string retry_topic(const std::string& topic, int level) {
  return topic + ".retry." + std::to_string(level);
}
inline std::string dead_letter_topic(const std::string& topic) {
  return topic + ".dlq";
}

}  // namespace common::events
