#include "worker/sync/drift.hpp"

#include "common/logging/logger.hpp"

namespace worker::sync {

std::vector<std::size_t> compare_with_mirror(
    const std::vector<ApiEntity>& source, const std::unordered_map<std::string, MirrorRow>& mirror,
    EntityDrift& drift) {
  std::vector<std::size_t> fixes;
  for (std::size_t i = 0; i < source.size(); ++i) {
    const ApiEntity& entity = source[i];
    auto it = mirror.find(entity.id);
    if (it == mirror.end()) {
      drift.missing.insert(entity.id);
      fixes.push_back(i);
    } else if (!it->second.deleted && it->second.updated_at_ms < entity.updated_at_ms) {
      drift.stale.insert(entity.id);
      fixes.push_back(i);
    }
  }
  return fixes;
}

std::string drift_json(const DriftReport& report, std::size_t max_ids) {
  auto ids = [max_ids](std::string& out, const std::set<std::string>& set) {
    out += '[';
    bool first = true;
    std::size_t written = 0;
    for (const auto& id : set) {
      if (written++ == max_ids) break;
      if (!first) out += ',';
      first = false;
      common::logging::append_json_string(out, id);
    }
    out += ']';
  };
  std::string out = "{";
  bool first = true;
  for (const auto& [kind, drift] : report) {
    if (!first) out += ',';
    first = false;
    common::logging::append_json_string(out, plural_name(kind));
    out += ":{\"missing_count\":" + std::to_string(drift.missing.size()) +
           ",\"stale_count\":" + std::to_string(drift.stale.size()) +
           ",\"gone_count\":" + std::to_string(drift.gone.size()) + ",\"missing\":";
    ids(out, drift.missing);
    out += ",\"stale\":";
    ids(out, drift.stale);
    out += ",\"gone\":";
    ids(out, drift.gone);
    out += '}';
  }
  out += '}';
  return out;
}

}  // namespace worker::sync
