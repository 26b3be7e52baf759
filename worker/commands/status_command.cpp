#include <cstdio>

#include "common/config/env_reader.hpp"
#include "common/logging/logger.hpp"
#include "worker/commands/command.hpp"
#include "worker/commands/summary_json.hpp"
#include "worker/store/pg_mirror_store.hpp"
#include "worker/store/store_error.hpp"
#include "worker/sync/sync_commands.hpp"

namespace worker::commands {
namespace {

constexpr std::string_view kUsage = R"(Usage: clerk-mirror status [--database-url URL]

Prints, as one JSON object, what the mirror holds: rows and deleted rows per
table, the stored offsets of every consumer group, audit-trail rows by outcome,
the time of the last commit, and the newest backfill, reconcile and sync runs
("sync_runs"). Read-only.

Environment: DATABASE_URL (required).
)";

int run_status(const CommandContext& context) {
  common::config::EnvReader env;
  auto positional = env.apply_flags(context.args, {"DATABASE_URL"});
  if (!positional.empty()) env.fail("arguments", "unexpected: " + positional.front());
  std::string url = env.database_url("DATABASE_URL");
  if (!env.problems().empty()) return report_config_problems("status", env.problems());

  common::logging::Logger logger("status", common::logging::Level::kWarn);
  try {
    store::PgMirrorStore store(url, "", logger);
    std::string out = "{" + summary_members_json(store.summarize()) +
                      ",\"sync_runs\":" + worker::sync::sync_runs_json(url) + "}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  } catch (const store::StoreError& e) {
    std::fprintf(stderr, "clerk-mirror status: database error: %s\n", e.what());
    return 1;
  }
}

}  // namespace

Command status_command() {
  return {"status", "print row counts, stored offsets and audit totals as JSON", kUsage,
          run_status};
}

}  // namespace worker::commands
