#include "worker/commands/summary_json.hpp"

#include "common/logging/logger.hpp"

namespace worker::commands {
namespace {

std::string quoted(std::string_view text) {
  std::string out;
  common::logging::append_json_string(out, text);
  return out;
}

}  // namespace

std::string summary_members_json(const store::MirrorSummary& summary) {
  std::string out = "\"tables\":{";
  for (std::size_t i = 0; i < summary.tables.size(); ++i) {
    const auto& t = summary.tables[i];
    out += (i ? "," : "") + quoted(t.name) + ":{\"rows\":" + std::to_string(t.rows) +
           ",\"deleted\":" + std::to_string(t.deleted) + "}";
  }
  out += "},\"offsets\":[";
  for (std::size_t i = 0; i < summary.offsets.size(); ++i) {
    const auto& [tp, group] = summary.offsets[i];
    out += std::string(i ? "," : "") + "{\"group\":" + quoted(group) +
           ",\"topic\":" + quoted(tp.topic) + ",\"partition\":" + std::to_string(tp.partition) +
           ",\"next_offset\":" + std::to_string(tp.offset) + "}";
  }
  out += "],\"events\":{";
  for (std::size_t i = 0; i < summary.outcomes.size(); ++i) {
    out += (i ? "," : "") + quoted(summary.outcomes[i].first) + ":" +
           std::to_string(summary.outcomes[i].second);
  }
  out += "},\"last_commit_at\":" +
         (summary.last_applied_at.empty() ? std::string("null") : quoted(summary.last_applied_at));
  return out;
}

}  // namespace worker::commands
