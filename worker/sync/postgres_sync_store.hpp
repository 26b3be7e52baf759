#pragma once
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "worker/sync/sync_store.hpp"

namespace worker::sync {

/// A database failure, translated from libpqxx: what was attempted and why.
class SyncStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// SyncStore over one libpqxx connection: the tables of migrations 0050+
/// (`clerk.sync_runs`, `clerk.sync_checkpoints`) and reads of the mirror
/// tables. The one place in worker/sync that includes libpqxx. Not
/// thread-safe; owned by the command that runs. Database errors come out as
/// SyncStoreError and fail the run.
class PostgresSyncStore : public SyncStore {
 public:
  /// Connects (translates into pqxx::connection); throws naming the failure.
  explicit PostgresSyncStore(const std::string& database_url);
  ~PostgresSyncStore() override;

  /// Translates into pg_try_advisory_lock(hashtext('clerk-mirror sync'), kind).
  bool try_lock(RunKind kind) override;
  std::optional<std::int64_t> close_abandoned_runs(RunKind kind) override;
  std::int64_t start_run(RunKind kind, const std::string& scope, bool dry_run,
                         std::optional<std::int64_t> resumed_from) override;
  void record_progress(std::int64_t run_id, const RunCounts& counts) override;
  void finish_run(std::int64_t run_id, RunStatus status, const RunCounts& counts,
                  std::int64_t drift_found, const std::string& drift_json,
                  const std::string& error) override;
  std::optional<std::string> run_scope(std::int64_t run_id) override;
  std::optional<std::int64_t> latest_run(RunKind kind) override;
  /// Per partition of `topic`, the furthest next offset any consumer group stored:
  /// what the workers have applied.
  std::map<std::int32_t, std::int64_t> applied_offsets(const std::string& topic);

  std::optional<BackfillCheckpoint> load_checkpoint(EntityKind phase) override;
  void save_checkpoint(const BackfillCheckpoint& checkpoint) override;
  void clear_checkpoint(EntityKind phase) override;

  std::unordered_map<std::string, MirrorRow> mirror_rows(
      EntityKind kind, const std::vector<std::string>& ids) override;
  /// Into a temporary table of this session (`pg_temp.reconcile_seen`).
  std::vector<std::string> remember_seen(EntityKind kind,
                                         const std::vector<std::string>& ids) override;
  void forget_seen() override;
  /// An anti-join of the mirror table with that temporary table.
  std::vector<MirrorRow> unseen_alive_rows(EntityKind kind,
                                           std::int64_t created_before_ms) override;
  std::vector<MirrorRow> alive_memberships(const std::string& organization_id) override;

  std::vector<RunSummary> recent_runs(int limit) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Renders a PostgreSQL text[] literal (`{"a","b"}`), quoting every element.
std::string text_array_literal(const std::vector<std::string>& items);

}  // namespace worker::sync
