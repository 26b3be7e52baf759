#include "common/logging/logger.hpp"
#include "worker/sync/postgres_sync_store.hpp"
#include "worker/sync/sync_commands.hpp"

namespace worker::sync {

std::string sync_runs_json(const std::string& database_url, int limit) {
  using common::logging::json_string;
  try {
    PostgresSyncStore store(database_url);
    std::string out = "[";
    for (const RunSummary& run : store.recent_runs(limit)) {
      if (out.size() > 1) out += ',';
      out += "{\"id\":" + std::to_string(run.id) + ",\"kind\":" + json_string(run.kind) +
             ",\"scope\":" + json_string(run.scope) +
             ",\"dry_run\":" + (run.dry_run ? "true" : "false") +
             ",\"status\":" + json_string(run.status) +
             ",\"started_at\":" + json_string(run.started_at) + ",\"finished_at\":" +
             (run.finished_at.empty() ? "null" : json_string(run.finished_at)) +
             ",\"counts\":" + run.counts + ",\"drift_found\":" + std::to_string(run.drift_found) +
             ",\"resumed_from\":" +
             (run.resumed_from > 0 ? std::to_string(run.resumed_from) : "null") +
             ",\"error\":" + (run.error.empty() ? "null" : json_string(run.error)) + "}";
    }
    return out + "]";
  } catch (const std::exception& e) {
    return "{\"error\":" + json_string(e.what()) + "}";
  }
}

}  // namespace worker::sync
