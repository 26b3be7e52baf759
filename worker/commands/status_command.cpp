#include <cstdio>

#include "common/config/env_reader.hpp"
#include "common/logging/logger.hpp"
#include "worker/commands/command.hpp"
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

std::string quoted(std::string_view text) {
  std::string out;
  common::logging::append_json_string(out, text);
  return out;
}

int run_status(const CommandContext& context) {
  common::config::EnvReader env;
  auto positional = env.apply_flags(context.args, {"DATABASE_URL"});
  if (!positional.empty()) env.fail("arguments", "unexpected: " + positional.front());
  std::string url = env.database_url("DATABASE_URL");
  if (!env.problems().empty()) return report_config_problems("status", env.problems());

  common::logging::Logger logger("status", common::logging::Level::kWarn);
  try {
    store::PgMirrorStore store(url, "", logger);
    auto summary = store.summarize();
    std::string out = "{\"tables\":{";
    for (std::size_t i = 0; i < summary.tables.size(); ++i) {
      const auto& t = summary.tables[i];
      out += (i ? "," : "") + quoted(t.name) + ":{\"rows\":" + std::to_string(t.rows) +
             ",\"deleted\":" + std::to_string(t.deleted) + "}";
    }
    out += "},\"offsets\":[";
    for (std::size_t i = 0; i < summary.offsets.size(); ++i) {
      const auto& [tp, group] = summary.offsets[i];
      out += std::string(i ? "," : "") + "{\"group\":" + quoted(group) +
             ",\"topic\":" + quoted(tp.topic) + ",\"partition\":" + std::to_string(tp.partition) +
             ",\"next_offset\":" + std::to_string(tp.offset) + "}";
    }
    out += "],\"events\":{";
    for (std::size_t i = 0; i < summary.outcomes.size(); ++i) {
      out += (i ? "," : "") + quoted(summary.outcomes[i].first) + ":" +
             std::to_string(summary.outcomes[i].second);
    }
    out +=
        "},\"last_commit_at\":" +
        (summary.last_applied_at.empty() ? std::string("null") : quoted(summary.last_applied_at)) +
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
