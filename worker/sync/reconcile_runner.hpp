#pragma once
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "worker/sync/clerk_api.hpp"
#include "worker/sync/clock.hpp"
#include "worker/sync/drift.hpp"
#include "worker/sync/entity_selection.hpp"
#include "worker/sync/event_publisher.hpp"
#include "worker/sync/progress_reporter.hpp"
#include "worker/sync/sync_store.hpp"

namespace worker::sync {

/// What to compare (the selection) and how.
struct ReconcileOptions : EntitySelection {
  bool dry_run = false;  ///< report drift only; publish nothing
  int page_size = 500;
  int overlap = 5;
};

struct ReconcileResult {
  std::int64_t run_id = 0;
  RunStatus status = RunStatus::kRunning;
  std::int64_t started_at_ms = 0;  ///< rows created after this are never reported gone
  DriftReport drift;
  RunCounts counts;
};

/// Compares the mirror with the Clerk Backend API and, unless dry, publishes
/// the fixes with source `reconcile`: snapshots for missing and stale rows,
/// deletes (timestamped now) for rows alive in the mirror but gone at the
/// source. "Gone" is confirmed with a direct request for each candidate
/// before it is believed, so a page that moved under the walk never deletes a
/// live entity. Reads the mirror through SyncStore; never writes it. One
/// reconcile at a time. Not thread-safe.
class ReconcileRunner {
 public:
  ReconcileRunner(ClerkApi& api, EventPublisher& publisher, SyncStore& store, Clock& clock,
                  ProgressReporter& progress);

  /// Runs to completion or a stop request; records the run and its drift.
  /// Throws RunBusy, and rethrows failures after recording them.
  ReconcileResult run(const ReconcileOptions& options);

 private:
  struct Walk;  // the state of one run
  void walk_list(Walk& walk, EntityKind kind, const std::string& organization_id);
  void compare_page(Walk& walk, EntityKind kind, const std::vector<ApiEntity>& entities,
                    const std::vector<std::size_t>& which);
  void find_gone(Walk& walk, EntityKind kind);
  void find_gone_memberships(Walk& walk);
  void publish_deletions(Walk& walk, EntityKind kind, const std::vector<MirrorRow>& rows);
  void check_stop();

  ClerkApi& api_;
  EventPublisher& publisher_;
  SyncStore& store_;
  Clock& clock_;
  ProgressReporter& progress_;
};

}  // namespace worker::sync
