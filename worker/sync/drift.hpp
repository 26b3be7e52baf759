#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "worker/sync/api_entity.hpp"

namespace worker::sync {

/// How the mirror differs from the source for one entity.
enum class DriftKind {
  kMissing,  ///< alive at the source, no row in the mirror
  kStale,    ///< the mirror's row has an older version (updated_at) than the source
  kGone,     ///< alive in the mirror, created before the run started, gone at the source
};

/// The drift found for one kind of entity, ids sorted.
struct EntityDrift {
  std::set<std::string> missing;
  std::set<std::string> stale;
  std::set<std::string> gone;
  std::size_t total() const { return missing.size() + stale.size() + gone.size(); }
};

/// Drift per entity kind.
using DriftReport = std::map<EntityKind, EntityDrift>;

/// Compares entities fetched from the source with the mirror's rows for the
/// same ids (absent ids: no row). Returns the indices into `source` that need
/// a snapshot, recording each as missing or stale in `drift`. A row deleted
/// in the mirror is not drift: the source's list may predate the delete, and
/// deleted entities never come back. Pure.
std::vector<std::size_t> compare_with_mirror(
    const std::vector<ApiEntity>& source, const std::unordered_map<std::string, MirrorRow>& mirror,
    EntityDrift& drift);

/// Renders the report as JSON, at most `max_ids` ids per list (counts stay exact):
/// `{"users":{"missing_count":1,"stale_count":0,"gone_count":0,"missing":["user_1"],"stale":[],"gone":[]},...}`.
std::string drift_json(const DriftReport& report, std::size_t max_ids = SIZE_MAX);

}  // namespace worker::sync
