#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace common::http {
class OpsServer;
}
namespace common::logging {
class Logger;
}
namespace worker::observe {
class WorkerStatus;
}

namespace worker::commands {

class BackfillLauncher;

struct AdminContext {
  std::string token;                 ///< ADMIN_TOKEN; empty: every admin route answers 403
  std::string database_url;          ///< DATABASE_URL
  bool backfill_configured = false;  ///< CLERK_SECRET_KEY is set
  const observe::WorkerStatus* status = nullptr;
  BackfillLauncher* backfill = nullptr;
  common::logging::Logger* logger = nullptr;
  std::function<std::int64_t()> clock;  ///< ms since the epoch
};

/// The worker's admin API, beside /healthz, /readyz and /metrics on ADMIN_LISTEN.
/// Every route needs `Authorization: Bearer <ADMIN_TOKEN>` (401 otherwise; 403
/// while ADMIN_TOKEN is unset) and answers JSON; errors are
/// `{"error":"<code>","detail":"..."}`. Database reads run on the ops server's
/// blocking thread.
///   GET  /admin/status     this worker (readiness, outcomes since start, last event,
///                          last error, consumer lag), the backfill started here,
///                          the database summary and the newest sync runs
///   GET  /admin/database   the database summary (as `clerk-mirror status`)
///   GET  /admin/sync-runs  the sync-run log, newest first; ?limit=1..100 (20)
///   POST /admin/backfill   starts `clerk-mirror backfill` in a child process: 202;
///                          ?entities=users,organizations,memberships (default all),
///                          ?dry_run=true, ?restart=true; 409 while one started here
///                          runs; 503 without CLERK_SECRET_KEY
///   GET  /admin/backfill   the backfill started here: running, pid, args, exit code
/// The context's pointers must outlive the server.
void add_admin_routes(common::http::OpsServer& server, AdminContext context);

}  // namespace worker::commands
