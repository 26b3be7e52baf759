#include "worker/sync/sync_run.hpp"

namespace worker::sync {

std::string_view to_string(RunKind kind) {
  switch (kind) {
    case RunKind::kBackfill:
      return "backfill";
    case RunKind::kReconcile:
      return "reconcile";
    case RunKind::kSync:
      return "sync";
  }
  return "backfill";
}

std::string_view to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kSucceeded:
      return "succeeded";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kInterrupted:
      return "interrupted";
  }
  return "running";
}

std::int64_t RunCounts::published() const {
  std::int64_t total = 0;
  for (const auto& [kind, c] : kinds)
    total += c.published;
  return total;
}

std::string counts_json(const RunCounts& counts) {
  std::string out = "{";
  for (const auto& [kind, c] : counts.kinds) {
    out += "\"" + std::string(plural_name(kind)) + "\":{\"pages\":" + std::to_string(c.pages) +
           ",\"fetched\":" + std::to_string(c.fetched) +
           ",\"published\":" + std::to_string(c.published);
    if (c.expected >= 0) out += ",\"expected\":" + std::to_string(c.expected);
    out += "},";
  }
  out += "\"api\":{\"requests\":" + std::to_string(counts.api.requests) +
         ",\"retries\":" + std::to_string(counts.api.retries) +
         ",\"throttled\":" + std::to_string(counts.api.throttled) + "}}";
  return out;
}

}  // namespace worker::sync
