#pragma once
#include <string>
#include <string_view>

#include "worker/sync/api_entity.hpp"

namespace worker::sync {

/// Which kinds of entity a backfill or reconcile covers: the `--users`,
/// `--organizations` and `--memberships` flags (none of them means all). The
/// run log stores it as the run's scope, and a backfill resumes an
/// organizations checkpoint only when the run that wrote it covered at least
/// as much. Pure value; safe to copy and share.
struct EntitySelection {
  bool users = true;
  bool organizations = true;
  bool memberships = true;

  bool includes(EntityKind kind) const;
  /// Organizations are walked for their own sake or for their memberships.
  bool walks_organizations() const { return organizations || memberships; }
  /// True when every kind `other` selects is selected here too.
  bool covers(const EntitySelection& other) const;
  /// "users,organizations,memberships" for the selected kinds: the run log's scope.
  std::string scope() const;
  /// The selection a scope() text names; words it does not know are ignored.
  static EntitySelection from_scope(std::string_view scope);
  bool operator==(const EntitySelection&) const = default;
};

}  // namespace worker::sync
