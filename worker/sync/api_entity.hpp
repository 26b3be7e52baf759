#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/events/entity_decoder.hpp"

namespace worker::sync {

/// The three kinds of entity the mirror keeps (the event codec's enum).
using EntityKind = common::events::EntityKind;

/// "users", "organizations", "memberships": the names used in flags, counts and checkpoints.
std::string_view plural_name(EntityKind kind);
/// "user", "organization", "organizationMembership": the event type prefix.
std::string_view event_prefix(EntityKind kind);
/// "user", "organization", "organization_membership": Clerk's `object` value.
inline std::string_view object_name(EntityKind kind) {
  return common::events::to_string(kind);
}
std::optional<EntityKind> parse_plural_name(std::string_view name);

/// One entity as the Clerk Backend API returned it: the fields the sync code
/// needs, plus the entity's exact JSON, which becomes the event's `data`.
struct ApiEntity {
  std::string id;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;  ///< the version the worker compares
  std::string organization_id;     ///< memberships: `organization.id`
  std::string user_id;             ///< memberships: `public_user_data.user_id`
  std::string raw_json;            ///< the entity object, byte for byte as received
};

/// A row of a mirror table as far as reconcile needs it.
struct MirrorRow {
  std::string id;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  bool deleted = false;
  std::string organization_id;  ///< memberships only
  std::string user_id;          ///< memberships only
  std::string role;             ///< memberships only
  /// Memberships only: the stored data object as last applied (JSON text), empty
  /// when the row has none. A synthesized deletion carries it, so that its data
  /// half rewrites the row with what it already holds instead of an outline.
  std::string payload;
};

}  // namespace worker::sync
