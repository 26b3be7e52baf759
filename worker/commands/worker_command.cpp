#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/config/env_reader.hpp"
#include "common/events/event_contract.hpp"
#include "common/http/ops_server.hpp"
#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/logging/logger.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "common/process/stop_signal.hpp"
#include "worker/commands/admin_api.hpp"
#include "worker/commands/backfill_launcher.hpp"
#include "worker/commands/command.hpp"
#include "worker/commands/serve_worker.hpp"
#include "worker/config/worker_config.hpp"
#include "worker/consume/batch_processor.hpp"
#include "worker/consume/consumer_loop.hpp"
#include "worker/consume/failure_router.hpp"
#include "worker/observe/worker_metrics.hpp"
#include "worker/observe/worker_status.hpp"
#include "worker/retry/retry_policy.hpp"
#include "worker/store/migration.hpp"
#include "worker/store/pg_migrator.hpp"
#include "worker/store/pg_mirror_store.hpp"
#include "worker/store/store_error.hpp"

namespace worker::commands {
namespace {

constexpr std::string_view kUsage = R"(Usage: clerk-mirror worker [--option value ...]

Consumes the event topic and its retry topics in a consumer group and applies
the events to PostgreSQL (schema clerk): version-guarded upserts, soft deletes,
offsets stored in the same transaction. Applies migrations first. Serves
/healthz, /readyz, /metrics and, with ADMIN_TOKEN, the admin API (/admin/status,
/admin/database, /admin/sync-runs, /admin/backfill) on ADMIN_LISTEN. Stops
cleanly on SIGTERM/SIGINT (a backfill started through the admin API too).

Environment (flags override: --kafka-brokers sets KAFKA_BROKERS):
  KAFKA_BROKERS                 host:port[,host:port...] (required)
  KAFKA_TOPIC                   main topic (default clerk.events); also consumes
                                <topic>.retry.1..N, dead-letters to <topic>.dlq
  KAFKA_TOPIC_PARTITIONS        partitions when the worker must create the topic (6)
  DATABASE_URL                  postgresql://... (required)
  ADMIN_LISTEN                  host:port of /healthz /readyz /metrics and the admin API
                                (127.0.0.1:9090)
  ADMIN_TOKEN                   bearer token of the admin API, 16 characters or more;
                                unset: the admin routes answer 403
  CLERK_SECRET_KEY, CLERK_API_* what POST /admin/backfill's child process reads (see
                                clerk-mirror backfill --help); unset: that route answers 503
  WORKER_GROUP_ID               consumer group (clerk-mirror-worker)
  WORKER_GROUP_INSTANCE_ID      static membership id (group.instance.id): a restart
                                with the same id resumes without a rebalance (unset)
  WORKER_NAME                   name in dead-letter headers (<hostname>:<pid>)
  WORKER_BATCH_MAX_EVENTS       events per transaction at most (5000)
  WORKER_BATCH_MAX_WAIT_MS      wait for a batch to fill at most (50)
  WORKER_SESSION_TIMEOUT_MS     consumer group session timeout (10000)
  WORKER_RETRY_DELAYS_MS        delay of each retry topic (5000,60000,600000); retry topics
                                beyond the list that exist on the broker are consumed too
  WORKER_BACKOFF_INITIAL_MS     first in-place retry backoff (100)
  WORKER_BACKOFF_MAX_MS         in-place retry backoff cap (5000)
  WORKER_AUDIT_RETENTION_HOURS  keep clerk.applied_events rows this long; 0 = forever (720)
  WORKER_MIGRATE                apply migrations at start (true)
  LOG_LEVEL                     debug | info | warn | error (info)
)";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Migrations at start: waits for the database, refuses an edited migration.
bool migrate_at_start(const config::WorkerConfig& config, common::logging::Logger& logger,
                      common::process::StopSignal& stop, int& exit_code) {
  store::PgMigrator migrator(config.database_url, logger);
  for (int attempt = 1; !stop.stop_requested(); ++attempt) {
    try {
      auto report = migrator.migrate(store::embedded_migrations());
      logger.info("schema up to date", {{"applied", report.applied.size()},
                                        {"already_applied", report.already_applied.size()}});
      return true;
    } catch (const store::MigrationRefused& e) {
      logger.error("migration refused", {{"error", e.what()}});
      exit_code = 3;
      return false;
    } catch (const store::StoreError& e) {
      logger.warn("database not ready for migrations; retrying",
                  {{"error", e.what()}, {"attempt", attempt}});
      stop.wait_for(std::chrono::milliseconds(std::min(5000, 250 * attempt)));
    }
  }
  exit_code = 0;
  return false;
}

// Creates the main topic when missing, and its retry and dead-letter topics. Sets
// `levels_to_consume` to the configured retry levels or, when the broker holds retry
// topics beyond them (WORKER_RETRY_DELAYS_MS was shortened), to the highest of
// those: their records were published for a retry and must still be applied.
bool ensure_topics(const config::WorkerConfig& config, int retry_levels, int& levels_to_consume,
                   common::logging::Logger& logger, common::process::StopSignal& stop) {
  common::kafka::KafkaAdmin admin(config.brokers, logger);
  for (int attempt = 1; !stop.stop_requested(); ++attempt) {
    try {
      int partitions = admin.partition_count(config.topic, std::chrono::seconds(10));
      if (partitions == 0) partitions = config.topic_partitions;
      admin.create_topics(common::kafka::pipeline_topics(config.topic, partitions, retry_levels),
                          std::chrono::seconds(30));
      levels_to_consume = retry_levels;
      while (admin.partition_count(common::events::retry_topic(config.topic, levels_to_consume + 1),
                                   std::chrono::seconds(10)) > 0) {
        ++levels_to_consume;
      }
      if (levels_to_consume > retry_levels) {
        logger.warn(
            "consuming retry topics beyond WORKER_RETRY_DELAYS_MS: they exist, and records "
            "published to them for a retry are still applied (then dead-lettered if they fail)",
            {{"configured_levels", retry_levels}, {"consumed_levels", levels_to_consume}});
      }
      return true;
    } catch (const common::kafka::KafkaError& e) {
      logger.warn("broker not ready for topic checks; retrying",
                  {{"error", e.what()}, {"attempt", attempt}});
      stop.wait_for(std::chrono::milliseconds(std::min(5000, 250 * attempt)));
    }
  }
  return false;
}

int run_worker(const CommandContext& context) {
  common::config::EnvReader env;
  auto positional = env.apply_flags(context.args, config::worker_config_variables());
  if (!positional.empty()) env.fail("arguments", "unexpected: " + positional.front());
  config::WorkerConfig config = config::read_worker_config(env);
  if (!env.problems().empty()) return report_config_problems("worker", env.problems());
  return serve_worker(config, context.stop);
}

}  // namespace

int serve_worker(const config::WorkerConfig& config, common::process::StopSignal& stop) {
  common::logging::Logger logger("worker", config.log_level);
  common::metrics::MetricsRegistry registry;
  observe::WorkerMetrics metrics(registry.registry());
  metrics.ready(false);

  store::PgReadiness readiness(config.database_url);
  common::kafka::ProducerSettings producer_settings{config.brokers, "clerk-mirror-worker"};
  common::kafka::KafkaProducer producer(producer_settings, logger);

  observe::WorkerStatus status(config.worker_name, config.group_id, now_ms());
  std::error_code exe_error;
  std::string executable = std::filesystem::read_symlink("/proc/self/exe", exe_error).string();
  BackfillLauncher backfill(
      exe_error ? std::string("clerk-mirror") : executable,
      {{"KAFKA_BROKERS", config.brokers},
       {"KAFKA_TOPIC", config.topic},
       {"DATABASE_URL", config.database_url}},
      [&logger](const BackfillLauncher::State& ended) {
        if (ended.exit_code == 0) {
          logger.info("backfill started from the admin API finished", {{"pid", ended.pid}});
        } else {
          logger.warn("backfill started from the admin API ended",
                      {{"pid", ended.pid}, {"exit_code", ended.exit_code.value_or(-1)}});
        }
      });
  const char* secret_key = std::getenv("CLERK_SECRET_KEY");

  common::http::OpsServer server(config.admin_listen, logger);
  server.route("GET", "/healthz", [](const common::http::Request&) {
    return common::http::Response{200, "{\"status\":\"ok\"}"};
  });
  // On the blocking thread: an unreachable database or broker takes seconds to say
  // so, and /healthz (a liveness probe) and /metrics must answer meanwhile.
  server.route(
      "GET", "/readyz",
      [&](const common::http::Request&) {
        bool db = readiness.ping();
        bool broker = producer.ping(std::chrono::milliseconds(1000));
        std::string body = std::string("{\"database\":") + (db ? "true" : "false") +
                           ",\"broker\":" + (broker ? "true" : "false") + "}";
        return common::http::Response{db && broker ? 200 : 503, body};
      },
      common::http::HandlerThread::kBlocking);
  server.route("GET", "/metrics", [&](const common::http::Request&) {
    return common::http::Response{200, registry.render(), "text/plain; version=0.0.4"};
  });
  add_admin_routes(server, AdminContext{config.admin_token, config.database_url,
                                        secret_key != nullptr && *secret_key != '\0', &status,
                                        &backfill, &logger, now_ms});
  if (config.admin_token.empty()) {
    logger.info("admin API disabled: ADMIN_TOKEN is not set");
  }
  try {
    server.start();
  } catch (const std::exception& e) {
    logger.error("cannot serve ADMIN_LISTEN",
                 {{"address", config.admin_listen}, {"error", e.what()}});
    return 1;
  }
  logger.info("ops endpoints listening",
              {{"address", config.admin_listen}, {"port", server.port()}});

  int exit_code = 0;
  if (config.migrate_on_start && !migrate_at_start(config, logger, stop, exit_code)) {
    server.stop();
    return exit_code;
  }
  retry::RetryPolicy policy(config.retry);
  metrics.zero_failure_series(policy.retry_levels());
  int retry_levels_to_consume = policy.retry_levels();
  if (!ensure_topics(config, policy.retry_levels(), retry_levels_to_consume, logger, stop)) {
    server.stop();
    return 0;
  }

  metrics.ready(true);  // migrated and topics in place: 0 again only while a batch fails
  consume::KafkaFailureRouter router(producer, std::chrono::seconds(30));
  store::PgMirrorStore store(config.database_url, config.group_id, logger);
  consume::BatchProcessor processor(store, router, policy, metrics, logger,
                                    {config.topic, config.worker_name, &status}, now_ms);
  consume::LoopSettings loop_settings;
  loop_settings.topic = config.topic;
  loop_settings.retry_levels = retry_levels_to_consume;
  loop_settings.batch_max_events = config.batch_max_events;
  loop_settings.batch_max_wait = config.batch_max_wait;
  loop_settings.audit_retention = config.audit_retention;
  loop_settings.status = &status;
  consume::ConsumerLoop loop(loop_settings, store, processor, policy, metrics, logger, now_ms);

  common::kafka::ConsumerSettings consumer_settings{config.brokers, config.group_id,
                                                    "clerk-mirror-worker"};
  consumer_settings.extra["session.timeout.ms"] = std::to_string(config.session_timeout.count());
  consumer_settings.extra["heartbeat.interval.ms"] =
      std::to_string(std::max<std::int64_t>(500, config.session_timeout.count() / 10));
  if (!config.group_instance_id.empty()) {
    consumer_settings.extra["group.instance.id"] = config.group_instance_id;
  }
  int result = 0;
  try {
    common::kafka::KafkaConsumer consumer(consumer_settings, logger, &loop);
    logger.info("worker started", {{"group", config.group_id}, {"worker", config.worker_name}});
    loop.run(consumer, stop);
  } catch (const std::exception& e) {
    logger.error("worker stopped on an unexpected error", {{"error", e.what()}});
    result = 1;
  }
  server.stop();
  backfill.stop();
  logger.info("worker stopped", {{"signal", stop.signal_number()}});
  return result;
}

Command worker_command() {
  return {"worker", "apply the event topic to PostgreSQL (the long-running consumer)", kUsage,
          run_worker};
}

int report_config_problems(std::string_view command, const std::vector<std::string>& problems) {
  for (const auto& p : problems) {
    std::fprintf(stderr, "clerk-mirror %.*s: %s\n", static_cast<int>(command.size()),
                 command.data(), p.c_str());
  }
  return 2;
}

}  // namespace worker::commands
