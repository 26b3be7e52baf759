#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "worker/sync/clerk_api.hpp"
#include "worker/sync/clock.hpp"
#include "worker/sync/entity_selection.hpp"
#include "worker/sync/event_publisher.hpp"
#include "worker/sync/progress_reporter.hpp"
#include "worker/sync/sync_store.hpp"

namespace worker::sync {

/// What to backfill (the selection) and how.
struct BackfillOptions : EntitySelection {
  bool dry_run = false;  ///< count and check connections; publish nothing, touch no checkpoint
  bool restart = false;  ///< drop the selected phases' checkpoints instead of resuming
  int page_size = 500;
  int overlap = 5;  ///< entities each page re-reads of the previous one (see PageCursor)
};

struct BackfillResult {
  std::int64_t run_id = 0;
  std::optional<std::int64_t> resumed_from;  ///< the interrupted run whose checkpoints were used
  RunStatus status = RunStatus::kRunning;
  RunCounts counts;
};

/// Publishes every user, organization and membership the API lists as a
/// snapshot event (source `backfill`), page by page: a page's events are all
/// acknowledged by the broker before its checkpoint is written, so a killed
/// run resumes where it stood and re-publishes at most one page. An
/// organizations checkpoint is resumed only when the run that wrote it covered
/// every kind this run selects (else that phase starts over). One backfill
/// at a time (SyncStore::try_lock). Collaborators are owned by the caller; not
/// thread-safe.
class BackfillRunner {
 public:
  BackfillRunner(ClerkApi& api, EventPublisher& publisher, SyncStore& store, Clock& clock,
                 ProgressReporter& progress);

  /// Runs to completion or to a stop request (status kInterrupted, checkpoints
  /// kept). The run is recorded in the run log whatever happens. Throws RunBusy
  /// when another backfill holds the lock, and rethrows ApiError, PublishError
  /// and database errors after recording the run as failed.
  BackfillResult run(const BackfillOptions& options);

 private:
  void count_only(const BackfillOptions& options, RunCounts& counts);
  void walk_users(const BackfillOptions& options, std::int64_t run_id, RunCounts& counts);
  void walk_organizations(const BackfillOptions& options, std::int64_t run_id, RunCounts& counts);
  void walk_memberships(const BackfillOptions& options, const std::string& organization_id,
                        BackfillCheckpoint& state, RunCounts& counts);
  void publish(EntityKind kind, const std::vector<ApiEntity>& entities,
               const std::vector<std::size_t>& which, std::int64_t run_id, RunCounts& counts);
  void report(EntityKind kind, const RunCounts& counts, bool final);
  void check_stop();
  std::optional<std::int64_t> prepare_checkpoints(const BackfillOptions& options);

  ClerkApi& api_;
  EventPublisher& publisher_;
  SyncStore& store_;
  Clock& clock_;
  ProgressReporter& progress_;
  std::int64_t run_id_ = 0;
  std::int64_t resumed_base_ = 0;  ///< entities a resumed phase had taken before
  Clock::TimePoint last_recorded_{};
};

}  // namespace worker::sync
