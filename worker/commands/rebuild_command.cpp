#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <thread>

#include "common/config/env_reader.hpp"
#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/logging/logger.hpp"
#include "common/process/stop_signal.hpp"
#include "worker/commands/command.hpp"
#include "worker/commands/serve_worker.hpp"
#include "worker/config/worker_config.hpp"
#include "worker/store/migration.hpp"
#include "worker/store/pg_migrator.hpp"
#include "worker/store/pg_mirror_store.hpp"
#include "worker/store/store_error.hpp"

namespace worker::commands {
namespace {

constexpr std::string_view kUsage = R"(Usage: clerk-mirror rebuild [--option value ...]

Rebuilds the mirror from the event log (design contract 9): applies the main
topic from its first offset into the database at DATABASE_URL, in a consumer
group of its own, and exits once every partition is applied up to where the
topic ended when the rebuild started. Events published meanwhile are left to
the regular workers (or to the next rebuild run). Run it against an empty
database, then point readers at it; compare with the live one using
`clerk-mirror status` or table checksums.

The rebuild stores its offsets in the rebuilt database like a worker does, so
an interrupted rebuild (SIGTERM, Ctrl-C, a crash) resumes where it stopped
when run again with the same WORKER_GROUP_ID. Retry topics are consumed too
(old retry copies are re-applied harmlessly: every write is version-guarded).

Prints one JSON line when done: group, events applied by outcome, rows per
table, seconds. Exit codes: 0 caught up, 1 failed or interrupted (run again to
resume), 2 bad configuration, 3 refused (the database is not empty, or an
edited migration).

Environment (flags override: --worker-group-id sets WORKER_GROUP_ID):
  DATABASE_URL              the database to rebuild into (required)
  KAFKA_BROKERS             host:port[,host:port...] (required)
  KAFKA_TOPIC               main topic (clerk.events)
  WORKER_GROUP_ID           consumer group of the rebuild
                            (clerk-mirror-rebuild-<unix seconds>)
  REBUILD_ALLOW_NONEMPTY    true: rebuild into a database that already holds
                            rows (they converge by the version rules) (false)
  ADMIN_LISTEN              /healthz /readyz /metrics while it runs
                            (127.0.0.1:0, a free port)
  WORKER_BATCH_MAX_EVENTS, WORKER_BATCH_MAX_WAIT_MS, LOG_LEVEL and the other
  worker variables (clerk-mirror worker --help) apply as well.
)";

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Where the rebuild must get to: the high watermark of each non-empty partition
/// of the main topic when the rebuild started.
using Targets = std::map<std::int32_t, std::int64_t>;

Targets read_targets(const config::WorkerConfig& config, common::logging::Logger& logger) {
  common::kafka::KafkaAdmin admin(config.brokers, logger);
  auto marks = admin.watermarks(config.topic, std::chrono::seconds(10));
  Targets targets;
  for (std::size_t p = 0; p < marks.size(); ++p) {
    if (marks[p].high > marks[p].low) targets[static_cast<std::int32_t>(p)] = marks[p].high;
  }
  return targets;
}

std::vector<common::kafka::TopicPartition> partitions_of(const std::string& topic,
                                                         const Targets& targets) {
  std::vector<common::kafka::TopicPartition> out;
  for (const auto& [partition, high] : targets)
    out.push_back({topic, partition});
  return out;
}

/// True once the rebuild's stored offsets reach every target.
bool caught_up(store::PgMirrorStore& store, const std::string& topic, const Targets& targets) {
  for (const auto& tp : store.load_offsets(partitions_of(topic, targets))) {
    if (tp.offset < targets.at(tp.partition)) return false;
  }
  return true;
}

std::string summary_json(const config::WorkerConfig& config, const store::MirrorSummary& summary,
                         double seconds) {
  std::string out = "{\"group\":";
  common::logging::append_json_string(out, config.group_id);
  out += ",\"topic\":";
  common::logging::append_json_string(out, config.topic);
  out += ",\"events\":{";
  for (std::size_t i = 0; i < summary.outcomes.size(); ++i) {
    if (i) out += ",";
    common::logging::append_json_string(out, summary.outcomes[i].first);
    out += ":" + std::to_string(summary.outcomes[i].second);
  }
  out += "},\"tables\":{";
  for (std::size_t i = 0; i < summary.tables.size(); ++i) {
    if (i) out += ",";
    common::logging::append_json_string(out, summary.tables[i].name);
    out += ":{\"rows\":" + std::to_string(summary.tables[i].rows) +
           ",\"deleted\":" + std::to_string(summary.tables[i].deleted) + "}";
  }
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.1f", seconds);
  out += std::string("},\"seconds\":") + elapsed + "}\n";
  return out;
}

bool holds_rows(const store::MirrorSummary& summary) {
  for (const auto& table : summary.tables) {
    if (table.rows > 0) return true;
  }
  return !summary.outcomes.empty();
}

int run_rebuild(const CommandContext& context) {
  common::config::EnvReader env;
  auto variables = config::worker_config_variables();
  variables.push_back("REBUILD_ALLOW_NONEMPTY");
  auto positional = env.apply_flags(context.args, variables);
  if (!positional.empty()) env.fail("arguments", "unexpected: " + positional.front());
  bool group_given = env.raw("WORKER_GROUP_ID").has_value();
  bool listen_given = env.raw("ADMIN_LISTEN").has_value();
  config::WorkerConfig config = config::read_worker_config(env);
  bool allow_nonempty = env.boolean("REBUILD_ALLOW_NONEMPTY", false);
  if (!env.problems().empty()) return report_config_problems("rebuild", env.problems());
  if (!group_given) config.group_id = "clerk-mirror-rebuild-" + std::to_string(unix_seconds());
  if (!listen_given) config.admin_listen = "127.0.0.1:0";
  config.migrate_on_start = false;  // done here, before the emptiness check

  common::logging::Logger logger("rebuild", config.log_level);
  auto started = std::chrono::steady_clock::now();
  Targets targets;
  try {
    store::PgMigrator(config.database_url, logger).migrate(store::embedded_migrations());
    targets = read_targets(config, logger);
    store::PgMirrorStore store(config.database_url, config.group_id, logger);
    // A resumed rebuild (this group already stored offsets) finds its own rows.
    bool resuming = false;
    for (const auto& tp : store.load_offsets(partitions_of(config.topic, targets)))
      resuming = resuming || tp.offset >= 0;
    if (!allow_nonempty && !resuming && holds_rows(store.summarize())) {
      std::fprintf(stderr,
                   "clerk-mirror rebuild: the database already holds mirrored rows; rebuild "
                   "into an empty database, or set REBUILD_ALLOW_NONEMPTY=true\n");
      return 3;
    }
  } catch (const store::MigrationRefused& e) {
    std::fprintf(stderr, "clerk-mirror rebuild: migration refused: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "clerk-mirror rebuild: %s\n", e.what());
    return 1;
  }
  logger.info("rebuild started", {{"group", config.group_id},
                                  {"topic", config.topic},
                                  {"partitions_to_apply", targets.size()}});

  // The watcher ends the run once the stored offsets reach the targets.
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    try {
      store::PgMirrorStore store(config.database_url, config.group_id, logger);
      while (!context.stop.wait_for(std::chrono::milliseconds(500))) {
        if (caught_up(store, config.topic, targets)) {
          done.store(true);
          context.stop.request_stop();
          return;
        }
      }
    } catch (const std::exception& e) {
      logger.error("rebuild progress check failed", {{"error", e.what()}});
      context.stop.request_stop();
    }
  });
  int code = serve_worker(config, context.stop);
  context.stop.request_stop();
  watcher.join();
  if (code != 0) return code;
  if (!done.load()) {
    std::fprintf(stderr,
                 "clerk-mirror rebuild: interrupted before catching up; run again with "
                 "WORKER_GROUP_ID=%s to resume\n",
                 config.group_id.c_str());
    return 1;
  }
  try {
    store::PgMirrorStore store(config.database_url, config.group_id, logger);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string out = summary_json(config, store.summarize(), seconds);
    std::fwrite(out.data(), 1, out.size(), stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "clerk-mirror rebuild: caught up, but the summary failed: %s\n", e.what());
  }
  return 0;
}

}  // namespace

Command rebuild_command() {
  return {"rebuild", "rebuild the mirror from the event log into a database, then exit", kUsage,
          run_rebuild};
}

}  // namespace worker::commands
