#pragma once
#include <cstdint>
#include <string>

#include "common/events/event_contract.hpp"
#include "common/kafka/kafka_record.hpp"
#include "worker/sync/api_entity.hpp"

namespace worker::sync {

/// Builds the Kafka records that backfill, reconcile and sync publish: the
/// webhook envelope shape, the webhook key and the contract's headers, so the
/// worker cannot tell them apart from webhooks except by the `source` header.
/// Pure. The topic is left empty for the publisher to fill in.
namespace sync_event {

/// A snapshot of a live entity:
/// `{"data":<entity JSON as
/// received>,"object":"event","type":"<prefix>.updated","timestamp":<updated_at>}`. The timestamp
/// is the entity's `updated_at`, the version the worker compares, so a snapshot older than what the
/// mirror holds (or than a delete) never lands. `run_id` makes the event id unique per run.
common::kafka::OutgoingRecord snapshot(EntityKind kind, const ApiEntity& entity,
                                       common::events::Source source, std::int64_t run_id,
                                       std::int64_t now_ms);

/// A delete for an entity that is gone at the source, shaped like Clerk's own:
/// users and organizations `{"deleted":true,"id":...,"object":...}`; memberships
/// the membership as the mirror knows it. The timestamp is `now_ms`.
common::kafka::OutgoingRecord deletion(EntityKind kind, const MirrorRow& row,
                                       common::events::Source source, std::int64_t run_id,
                                       std::int64_t now_ms);

/// The partition key per the event contract: the entity's id, a membership's organization id.
std::string key_of(EntityKind kind, const std::string& id, const std::string& organization_id);

}  // namespace sync_event
}  // namespace worker::sync
