#include "worker/sync/api_entity.hpp"

namespace worker::sync {

std::string_view plural_name(EntityKind kind) {
  switch (kind) {
    case EntityKind::kUser:
      return "users";
    case EntityKind::kOrganization:
      return "organizations";
    case EntityKind::kMembership:
      return "memberships";
  }
  return "users";
}

std::string_view event_prefix(EntityKind kind) {
  switch (kind) {
    case EntityKind::kUser:
      return "user";
    case EntityKind::kOrganization:
      return "organization";
    case EntityKind::kMembership:
      return "organizationMembership";
  }
  return "user";
}

std::optional<EntityKind> parse_plural_name(std::string_view name) {
  for (EntityKind kind : {EntityKind::kUser, EntityKind::kOrganization, EntityKind::kMembership}) {
    if (plural_name(kind) == name) return kind;
  }
  return std::nullopt;
}

}  // namespace worker::sync
