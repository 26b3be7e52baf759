#include "worker/commands/summary_json.hpp"

#include "common/logging/logger.hpp"

namespace worker::commands {
using common::logging::json_string;

std::string summary_members_json(const store::MirrorSummary& summary) {
  std::string out = "\"tables\":{";
  for (std::size_t i = 0; i < summary.tables.size(); ++i) {
    const auto& t = summary.tables[i];
    out += (i ? "," : "") + json_string(t.name) + ":{\"rows\":" + std::to_string(t.rows) +
           ",\"deleted\":" + std::to_string(t.deleted) + "}";
  }
  out += "},\"offsets\":[";
  for (std::size_t i = 0; i < summary.offsets.size(); ++i) {
    const auto& [tp, group] = summary.offsets[i];
    out += std::string(i ? "," : "") + "{\"group\":" + json_string(group) +
           ",\"topic\":" + json_string(tp.topic) +
           ",\"partition\":" + std::to_string(tp.partition) +
           ",\"next_offset\":" + std::to_string(tp.offset) + "}";
  }
  out += "],\"events\":{";
  for (std::size_t i = 0; i < summary.outcomes.size(); ++i) {
    out += (i ? "," : "") + json_string(summary.outcomes[i].first) + ":" +
           std::to_string(summary.outcomes[i].second);
  }
  out += "},\"last_commit_at\":" + (summary.last_applied_at.empty()
                                        ? std::string("null")
                                        : json_string(summary.last_applied_at));
  return out;
}

}  // namespace worker::commands
