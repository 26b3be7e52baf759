#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "worker/sync/api_entity.hpp"
#include "worker/sync/clerk_api.hpp"

namespace worker::sync {

enum class RunKind { kBackfill, kReconcile, kSync };
enum class RunStatus { kRunning, kSucceeded, kFailed, kInterrupted };

std::string_view to_string(RunKind kind);
std::string_view to_string(RunStatus status);

/// What one run did to one kind of entity.
struct KindCounts {
  std::int64_t pages = 0;      ///< list pages fetched
  std::int64_t fetched = 0;    ///< entities taken from the source
  std::int64_t published = 0;  ///< events acknowledged by the broker
  std::int64_t expected = -1;  ///< the source's count when known (dry runs, progress), else -1
};

/// The counters a run record carries.
struct RunCounts {
  std::map<EntityKind, KindCounts> kinds;
  ApiStats api;
  std::int64_t published() const;
};

/// `{"users":{"pages":..,"fetched":..,"published":..},...,"api":{"requests":..,...}}`.
std::string counts_json(const RunCounts& counts);

/// Another process holds the lock for this kind of run.
class RunBusy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A stop was requested (SIGINT, SIGTERM) while the run was going on.
class RunInterrupted : public std::runtime_error {
 public:
  RunInterrupted() : std::runtime_error("interrupted") {}
};

/// One row of the run log, rendered for people (status) and machines (admin API).
struct RunSummary {
  std::int64_t id = 0;
  std::string kind;
  std::string scope;
  bool dry_run = false;
  std::string status;
  std::string started_at;   ///< ISO 8601, UTC
  std::string finished_at;  ///< empty while running
  std::string counts;       ///< JSON
  std::int64_t drift_found = 0;
  std::string error;
  std::int64_t resumed_from = 0;  ///< 0 when not a resumed backfill
};

}  // namespace worker::sync
