#pragma once
#include <string>
#include <string_view>

#include "common/kafka/kafka_record.hpp"

namespace worker::retry {

/// True for the headers that only retry and dead-letter copies carry (attempt,
/// not-before, error-class, error-message, worker, original-*): what a replay drops.
bool is_failure_header(std::string_view name);

/// The identity of a dead letter: its `event-id` header; without one (a record
/// written by hand), the id the worker gives a record that has none,
/// `kafka:<original-topic>:<original-partition>:<original-offset>`, or the dead
/// letter's own position when it has no original-* headers either. Pure.
std::string dead_letter_event_id(const common::kafka::ConsumedRecord& dead_letter);

/// One dead letter read back from `<topic>.dlq`, as a JSON object on one line
/// (no newline): where it sits in the dead-letter topic and when it was written,
/// its event id, type, key and source, why it failed (error class and message),
/// where it was first consumed (original topic, partition, offset, timestamp),
/// the attempts made, the worker that gave up, and the size of the value. Numeric
/// headers are JSON numbers when they parse, else strings; absent headers are
/// null. The value itself is not shown (it may hold personal data). Bytes that are
/// not UTF-8 become U+FFFD, so the line is always valid JSON. Pure.
std::string dead_letter_json(const common::kafka::ConsumedRecord& dead_letter);

/// The record that replays a dead letter to `topic` (the main topic): its key
/// and value byte for byte and its contract headers (event-id, event-type,
/// event-timestamp, svix-timestamp, source, received-at and any other non-failure
/// header, in their order) with the failure headers dropped, so the worker sees
/// it as a first attempt. An `event-id` header is added when the dead letter had
/// none, so the replay keeps the identity the worker gave it. Partitioned by key;
/// the record timestamp is the producer's clock (when it was replayed). Pure.
common::kafka::OutgoingRecord replay_record(const common::kafka::ConsumedRecord& dead_letter,
                                            const std::string& topic);

}  // namespace worker::retry
