#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "worker/commands/command.hpp"

namespace common::process {
class StopSignal;
}

namespace worker::sync {

/// The dispatcher's entries for `clerk-mirror backfill`, `reconcile` and `sync`.
worker::commands::Command backfill_command();
worker::commands::Command reconcile_command();
worker::commands::Command sync_command();

/// The `clerk-mirror backfill|reconcile|sync` subcommands, called through the
/// entries above with the arguments after the subcommand's name.
/// Each wires its run (config, clients, store, runner), runs it and returns
/// the exit status: 0 done, 1 failed (the message names the endpoint, the
/// topic or the database), 2 bad flags or configuration (one line per
/// problem), 130 interrupted by `stop` (a backfill resumes on the next run).
/// `--help` prints every flag and variable and returns 0.
int run_backfill(const std::vector<std::string>& args, common::process::StopSignal& stop);
int run_reconcile(const std::vector<std::string>& args, common::process::StopSignal& stop);
int run_sync(const std::vector<std::string>& args, common::process::StopSignal& stop);

/// The help texts (what `--help` prints), built once and kept for the
/// process's lifetime, for the dispatcher's usage table.
std::string_view backfill_usage();
std::string_view reconcile_usage();
std::string_view sync_usage();

/// The "sync_runs" section of `clerk-mirror status`: a JSON array of the newest
/// `limit` runs (`[{"id":..,"kind":"backfill","scope":..,"dry_run":..,"status":..,
/// "started_at":..,"finished_at":..,"counts":{..},"drift_found":..,"resumed_from":..,
/// "error":..}]`), or `{"error":"..."}` when the database cannot be read. Never throws.
std::string sync_runs_json(const std::string& database_url, int limit = 10);

}  // namespace worker::sync
