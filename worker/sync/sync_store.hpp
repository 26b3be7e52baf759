#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "worker/sync/api_entity.hpp"
#include "worker/sync/page_cursor.hpp"
#include "worker/sync/sync_run.hpp"

namespace worker::sync {

/// Where an interrupted backfill resumes. One per phase: `kUser` (the user
/// list) and `kOrganization` (organizations and, inside each, its memberships).
struct BackfillCheckpoint {
  EntityKind phase = EntityKind::kUser;
  std::int64_t run_id = 0;
  CursorPosition outer;         ///< users or organizations, as of the start of the current page
  bool page_published = false;  ///< the current page's own entities are acknowledged
  std::vector<std::string> page_done;  ///< organizations of the current page fully done
  std::string inner_organization;      ///< whose memberships are in progress, or empty
  CursorPosition inner;                ///< that organization's memberships
  bool operator==(const BackfillCheckpoint&) const = default;
};

/// What sync runs keep in PostgreSQL: the run log, backfill checkpoints, and
/// read access to the mirror tables for reconcile (the worker stays their only
/// writer). Throws std::runtime_error subclasses on database failures.
class SyncStore {
 public:
  virtual ~SyncStore() = default;
  /// Takes the session lock that allows one run of `kind` at a time; false when
  /// another process holds it. Released when the connection ends (even by kill -9).
  virtual bool try_lock(RunKind kind) = 0;
  /// Runs of `kind` still marked running belong to dead processes (the caller
  /// holds the lock): marks them interrupted; returns the newest one's id.
  virtual std::optional<std::int64_t> close_abandoned_runs(RunKind kind) = 0;
  virtual std::int64_t start_run(RunKind kind, const std::string& scope, bool dry_run,
                                 std::optional<std::int64_t> resumed_from) = 0;
  virtual void record_progress(std::int64_t run_id, const RunCounts& counts) = 0;
  virtual void finish_run(std::int64_t run_id, RunStatus status, const RunCounts& counts,
                          std::int64_t drift_found, const std::string& drift_json,
                          const std::string& error) = 0;
  /// The scope a run was started with; nullopt when there is no such run.
  virtual std::optional<std::string> run_scope(std::int64_t run_id) = 0;
  /// The newest run of `kind` that was not a dry run; nullopt when there is none.
  virtual std::optional<std::int64_t> latest_run(RunKind kind) = 0;

  virtual std::optional<BackfillCheckpoint> load_checkpoint(EntityKind phase) = 0;
  virtual void save_checkpoint(const BackfillCheckpoint& checkpoint) = 0;
  virtual void clear_checkpoint(EntityKind phase) = 0;

  /// The mirror's rows (alive or deleted) among `ids`.
  virtual std::unordered_map<std::string, MirrorRow> mirror_rows(
      EntityKind kind, const std::vector<std::string>& ids) = 0;
  /// Records `ids` of `kind` as met at the source during this run and returns those
  /// not recorded before (in no particular order). A reconcile keeps this set in the
  /// database session, not in memory, so its memory does not grow with the instance.
  virtual std::vector<std::string> remember_seen(EntityKind kind,
                                                 const std::vector<std::string>& ids) = 0;
  /// Forgets every id remembered so far (a run starts with none).
  virtual void forget_seen() = 0;
  /// The mirror's alive rows created before `created_before_ms` whose ids were not
  /// remembered as seen: the candidates for "gone at the source".
  virtual std::vector<MirrorRow> unseen_alive_rows(EntityKind kind,
                                                   std::int64_t created_before_ms) = 0;
  /// One organization's alive memberships in the mirror.
  virtual std::vector<MirrorRow> alive_memberships(const std::string& organization_id) = 0;

  /// The newest runs, newest first.
  virtual std::vector<RunSummary> recent_runs(int limit) = 0;
};

}  // namespace worker::sync
