#include "worker/sync/sync_event.hpp"

#include <algorithm>

#include "common/events/event_key.hpp"
#include "common/logging/logger.hpp"

namespace worker::sync::sync_event {
namespace {

using common::events::Source;
using common::kafka::Header;
using common::kafka::OutgoingRecord;
using common::logging::append_json_string;

std::string event_type(EntityKind kind, std::string_view action) {
  return std::string(event_prefix(kind)) + "." + std::string(action);
}

OutgoingRecord make_record(std::string key, std::string type, std::string_view data_json,
                           std::int64_t timestamp_ms, Source source, std::string event_id,
                           std::int64_t now_ms) {
  std::string value;
  value.reserve(data_json.size() + 96);
  value += "{\"data\":";
  value += data_json;
  value += ",\"object\":\"event\",\"type\":";
  append_json_string(value, type);
  value += ",\"timestamp\":";
  value += std::to_string(timestamp_ms);
  value += '}';
  namespace header = common::events::header;
  OutgoingRecord record;
  record.key = std::move(key);
  record.value = std::move(value);
  record.headers = {
      Header{std::string(header::kEventId), std::move(event_id)},
      Header{std::string(header::kEventType), std::move(type)},
      Header{std::string(header::kEventTimestamp), std::to_string(timestamp_ms)},
      Header{std::string(header::kSource), std::string(common::events::to_string(source))},
      Header{std::string(header::kReceivedAt), std::to_string(now_ms)},
  };
  return record;
}

std::string event_id(Source source, std::int64_t run_id, const std::string& id,
                     std::int64_t version_ms) {
  return std::string(common::events::to_string(source)) + "_" + std::to_string(run_id) + "_" + id +
         "_" + std::to_string(version_ms);
}

}  // namespace

std::string key_of(EntityKind kind, const std::string& id, const std::string& organization_id) {
  // The contract's own rule, fed with what the envelope carries.
  common::events::EnvelopeFacts facts;
  facts.type = event_type(kind, "updated");
  facts.data_id = id;
  if (!organization_id.empty()) facts.data_organization_id = organization_id;
  return common::events::event_key(facts, id);
}

OutgoingRecord snapshot(EntityKind kind, const ApiEntity& entity, Source source,
                        std::int64_t run_id, std::int64_t now_ms) {
  return make_record(key_of(kind, entity.id, entity.organization_id), event_type(kind, "updated"),
                     entity.raw_json, entity.updated_at_ms, source,
                     event_id(source, run_id, entity.id, entity.updated_at_ms), now_ms);
}

OutgoingRecord deletion(EntityKind kind, const MirrorRow& row, Source source, std::int64_t run_id,
                        std::int64_t now_ms) {
  std::string data = "{";
  if (kind == EntityKind::kMembership && !row.payload.empty()) {
    // Clerk's own deletion carries the membership as it was: so does this one, from
    // the mirror. (An outline would tie with the stored version and, being newer,
    // overwrite the ended row's role, permissions and metadata with nulls.)
    data = row.payload;
  } else if (kind == EntityKind::kMembership) {
    data += "\"id\":";
    append_json_string(data, row.id);
    data += ",\"object\":\"organization_membership\",\"organization\":{\"id\":";
    append_json_string(data, row.organization_id);
    data += ",\"object\":\"organization\"},\"public_user_data\":{\"user_id\":";
    append_json_string(data, row.user_id);
    data += "},\"role\":";
    append_json_string(data, row.role);
    data += ",\"created_at\":" + std::to_string(row.created_at_ms);
    data += ",\"updated_at\":" + std::to_string(row.updated_at_ms);
    data += '}';
  } else {
    data += "\"deleted\":true,\"id\":";
    append_json_string(data, row.id);
    data += ",\"object\":";
    append_json_string(data, object_name(kind));
    data += '}';
  }
  // Stamped now, but never at or before the row's own version: with this machine's
  // clock behind Clerk's, a deletion stamped earlier than the last update would lose
  // to it, and the row would stay alive although reported deleted.
  std::int64_t at = std::max(now_ms, row.updated_at_ms + 1);
  return make_record(key_of(kind, row.id, row.organization_id), event_type(kind, "deleted"), data,
                     at, source, event_id(source, run_id, row.id, now_ms) + "_deleted", now_ms);
}

}  // namespace worker::sync::sync_event
