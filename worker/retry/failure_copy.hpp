#pragma once
#include <cstdint>
#include <string>

#include "common/kafka/kafka_record.hpp"
#include "worker/apply/apply_plan.hpp"
#include "worker/apply/inbound_event.hpp"
#include "worker/retry/retry_policy.hpp"

namespace worker::retry {

/// Builds the copy of a failed event to publish to `<topic>.retry.<level>` or, for
/// level 0, to `<topic>.dlq`: the record's key and value byte for byte, its headers,
/// and the failure headers of the event contract:
///   attempt            retry copies: the attempt the copy will be (level); dead letters:
///                      the attempts made (the failed event's attempt + 1)
///   not-before         retry copies: ms since the epoch before which it is not applied
///   error-class        malformed | database
///   error-message      the reason, at most 1000 bytes
///   original-topic / original-partition / original-offset / original-timestamp
///                      where the event was first consumed (kept from an earlier copy)
///   worker             the worker that gave up on it
///   event-id           added when the record had none, so every copy keeps one identity
/// Pure.
common::kafka::OutgoingRecord failure_copy(const apply::InboundEvent& event,
                                           const std::string& base_topic, const NextHop& hop,
                                           const apply::EventFailure& failure,
                                           const std::string& worker_name);

}  // namespace worker::retry
