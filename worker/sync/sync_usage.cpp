#include <string>

#include "worker/sync/sync_commands.hpp"
#include "worker/sync/sync_config.hpp"

namespace worker::sync {

namespace {

std::string backfill_help_text() {
  return std::string(R"(Usage: clerk-mirror backfill [--users] [--organizations] [--memberships]
                             [--dry-run] [--restart] [--verbose] [--VARIABLE value ...]

Pages through the Clerk Backend API (newest first, CLERK_API_PAGE_SIZE per page)
and publishes every entity to KAFKA_TOPIC as a snapshot event: the webhook
envelope {"data":<entity>,"object":"event","type":"user.updated","timestamp":
<updated_at>}, the webhook key, header source=backfill. The worker applies it
like a webhook; its version guard (the entity's updated_at) means a backfill
racing live webhooks never overwrites newer state or brings back a deleted row.

After each page is acknowledged by the broker (acks=all) a checkpoint is
written; a run that was killed resumes from it (see --restart). One backfill
runs at a time. Progress: a status line on a terminal, else a log line every
SYNC_PROGRESS_INTERVAL_MS. Each run is recorded in clerk.sync_runs (see
clerk-mirror status).

Options:
  --users           users
  --organizations   organizations
  --memberships     organization memberships (walks every organization)
                    (none of the three: all of them)
  --dry-run         count the entities and check the API, Kafka and the
                    database; publish nothing, touch no checkpoint
  --restart         ignore (and drop) the checkpoints of an interrupted run
  --verbose         log every API request (LOG_LEVEL=debug)
  -h, --help        this text

Exit status: 0 done, 1 failed, 2 bad flags or configuration, 130 interrupted
(run again to resume).

)") + sync_variables_help();
}

std::string reconcile_help_text() {
  return std::string(R"(Usage: clerk-mirror reconcile [--users] [--organizations] [--memberships]
                              [--dry-run] [--json] [--verbose] [--VARIABLE value ...]

Compares the mirror (DATABASE_URL) with the Clerk Backend API and reports the
drift per entity kind:
  missing  alive at the source, no row in the mirror
  stale    the mirror's updated_at is older than the source's
  gone     alive in the mirror, created before the run started, and gone at
           the source (each confirmed with its own request)
Without --dry-run it then publishes the fixes to KAFKA_TOPIC with header
source=reconcile: snapshots for missing and stale rows, deletes (timestamped
now) for gone ones; the worker applies them. Run it when the worker has no
lag, or it may report events still in flight (fixing them is harmless).

Options:
  --users, --organizations, --memberships   what to compare (default all)
  --dry-run    report only; publish nothing
  --json       print the report as one JSON object on stdout:
               {"run_id":N,"dry_run":B,"status":"...","drift_found":N,
                "published":N,"drift":{"users":{"missing_count":N,...,
                "missing":[ids],"stale":[ids],"gone":[ids]},...}}
  --verbose    log every API request (LOG_LEVEL=debug)
  -h, --help   this text

Exit status: 0 done (drift or not), 1 failed, 2 bad flags or configuration,
130 interrupted.

)") + sync_variables_help();
}

std::string sync_help_text() {
  return std::string(R"(Usage: clerk-mirror sync user <user_id> [--dry-run] [--verbose]
       clerk-mirror sync organization <org_id> [--dry-run] [--verbose]

Fetches one user, or one organization with all its memberships, from the Clerk
Backend API now and publishes it to KAFKA_TOPIC (header source=sync). An
entity gone at the source but alive in the mirror gets a delete event; so do
an organization's memberships the source no longer lists.

Options:
  --dry-run    fetch and report; publish nothing
  --verbose    log every API request (LOG_LEVEL=debug)
  -h, --help   this text

Exit status: 0 done, 1 failed, 2 bad flags or configuration, 130 interrupted.

)") + sync_variables_help();
}

}  // namespace

std::string_view backfill_usage() {
  static const std::string text = backfill_help_text();
  return text;
}

std::string_view reconcile_usage() {
  static const std::string text = reconcile_help_text();
  return text;
}

std::string_view sync_usage() {
  static const std::string text = sync_help_text();
  return text;
}

}  // namespace worker::sync
