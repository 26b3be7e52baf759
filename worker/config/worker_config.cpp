#include "worker/config/worker_config.hpp"

#include <unistd.h>

#include <charconv>

#include "common/config/env_reader.hpp"

namespace worker::config {
namespace {

std::string default_worker_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "worker") + ":" + std::to_string(getpid());
}

}  // namespace

std::vector<std::string> worker_config_variables() {
  return {"KAFKA_BROKERS",
          "KAFKA_TOPIC",
          "KAFKA_TOPIC_PARTITIONS",
          "DATABASE_URL",
          "ADMIN_LISTEN",
          "ADMIN_TOKEN",
          "WORKER_GROUP_ID",
          "WORKER_GROUP_INSTANCE_ID",
          "WORKER_NAME",
          "WORKER_BATCH_MAX_EVENTS",
          "WORKER_BATCH_MAX_WAIT_MS",
          "WORKER_SESSION_TIMEOUT_MS",
          "WORKER_RETRY_DELAYS_MS",
          "WORKER_BACKOFF_INITIAL_MS",
          "WORKER_BACKOFF_MAX_MS",
          "WORKER_AUDIT_RETENTION_HOURS",
          "WORKER_MIGRATE",
          "LOG_LEVEL"};
}

bool parse_delays(const std::string& text, std::vector<std::chrono::milliseconds>& out) {
  out.clear();
  std::string current;
  for (char c : text + ",") {
    if (c == ',' || c == ' ' || c == '\t') {
      if (current.empty()) continue;
      std::int64_t value = 0;
      auto [end, ec] = std::from_chars(current.data(), current.data() + current.size(), value);
      if (ec != std::errc{} || end != current.data() + current.size() || value < 0 ||
          value > 7LL * 24 * 3600 * 1000) {
        return false;
      }
      out.emplace_back(value);
      current.clear();
    } else {
      current += c;
    }
  }
  return out.size() <= 10;
}

WorkerConfig read_worker_config(common::config::EnvReader& env) {
  using std::chrono::milliseconds;
  WorkerConfig c;
  c.brokers = env.brokers("KAFKA_BROKERS");
  c.topic = env.string("KAFKA_TOPIC", "clerk.events");
  if (c.topic.empty()) env.fail("KAFKA_TOPIC", "is empty");
  c.topic_partitions = static_cast<int>(env.integer("KAFKA_TOPIC_PARTITIONS", 6, 1, 1000));
  c.database_url = env.database_url("DATABASE_URL");
  c.admin_listen = env.listen_address("ADMIN_LISTEN", "127.0.0.1:9090");
  c.admin_token = env.string("ADMIN_TOKEN", "");
  if (!c.admin_token.empty() && c.admin_token.size() < 16) {
    env.fail("ADMIN_TOKEN", "must be at least 16 characters (or unset to disable the admin API)");
  }
  c.group_id = env.string("WORKER_GROUP_ID", "clerk-mirror-worker");
  if (c.group_id.empty()) env.fail("WORKER_GROUP_ID", "is empty");
  c.group_instance_id = env.string("WORKER_GROUP_INSTANCE_ID", "");
  c.worker_name = env.string("WORKER_NAME", default_worker_name());
  c.batch_max_events =
      static_cast<std::size_t>(env.integer("WORKER_BATCH_MAX_EVENTS", 5000, 1, 100000));
  c.batch_max_wait = env.milliseconds("WORKER_BATCH_MAX_WAIT_MS", milliseconds(50), milliseconds(0),
                                      milliseconds(60000));
  c.session_timeout = env.milliseconds("WORKER_SESSION_TIMEOUT_MS", milliseconds(10000),
                                       milliseconds(6000), milliseconds(300000));
  if (auto delays = env.raw("WORKER_RETRY_DELAYS_MS")) {
    if (!parse_delays(*delays, c.retry.topic_delays)) {
      env.fail(
          "WORKER_RETRY_DELAYS_MS",
          "must be at most 10 delays in milliseconds separated by commas, got '" + *delays + "'");
    }
  }
  c.retry.backoff_initial = env.milliseconds("WORKER_BACKOFF_INITIAL_MS", milliseconds(100),
                                             milliseconds(1), milliseconds(60000));
  c.retry.backoff_max = env.milliseconds("WORKER_BACKOFF_MAX_MS", milliseconds(5000),
                                         milliseconds(1), milliseconds(600000));
  c.audit_retention =
      std::chrono::hours(env.integer("WORKER_AUDIT_RETENTION_HOURS", 24 * 30, 0, 24 * 3650));
  c.migrate_on_start = env.boolean("WORKER_MIGRATE", true);
  std::string level = env.string("LOG_LEVEL", "info");
  if (!common::logging::parse_level(level, c.log_level)) {
    env.fail("LOG_LEVEL", "must be debug, info, warn or error, got '" + level + "'");
  }
  return c;
}

}  // namespace worker::config
