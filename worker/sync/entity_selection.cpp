#include "worker/sync/entity_selection.hpp"

namespace worker::sync {

bool EntitySelection::includes(EntityKind kind) const {
  switch (kind) {
    case EntityKind::kUser:
      return users;
    case EntityKind::kOrganization:
      return organizations;
    case EntityKind::kMembership:
      return memberships;
  }
  return false;
}

bool EntitySelection::covers(const EntitySelection& other) const {
  return (users || !other.users) && (organizations || !other.organizations) &&
         (memberships || !other.memberships);
}

std::string EntitySelection::scope() const {
  std::string scope;
  for (EntityKind kind : {EntityKind::kUser, EntityKind::kOrganization, EntityKind::kMembership}) {
    if (!includes(kind)) continue;
    if (!scope.empty()) scope += ',';
    scope += plural_name(kind);
  }
  return scope;
}

EntitySelection EntitySelection::from_scope(std::string_view scope) {
  EntitySelection selection{false, false, false};
  while (!scope.empty()) {
    std::size_t comma = scope.find(',');
    std::string_view word = scope.substr(0, comma);
    if (auto kind = parse_plural_name(word)) {
      if (*kind == EntityKind::kUser) selection.users = true;
      if (*kind == EntityKind::kOrganization) selection.organizations = true;
      if (*kind == EntityKind::kMembership) selection.memberships = true;
    }
    if (comma == std::string_view::npos) break;
    scope.remove_prefix(comma + 1);
  }
  return selection;
}

}  // namespace worker::sync
