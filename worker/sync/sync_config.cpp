#include "worker/sync/sync_config.hpp"

#include "common/config/env_reader.hpp"

namespace worker::sync {

using std::chrono::milliseconds;

int default_api_rate(std::string_view secret_key) {
  // Clerk allows a development instance 100 Backend API requests per 10 s and a
  // production instance 1000, per instance: the application shares that budget.
  return secret_key.rfind("sk_test_", 0) == 0 ? 5 : 20;
}

SyncConfig read_sync_config(common::config::EnvReader& env) {
  SyncConfig config;
  config.kafka_brokers = env.brokers("KAFKA_BROKERS");
  config.kafka_topic = env.string("KAFKA_TOPIC", "clerk.events");
  if (config.kafka_topic.empty()) env.fail("KAFKA_TOPIC", "is empty");
  config.database_url = env.database_url("DATABASE_URL");
  config.api.secret_key = env.required("CLERK_SECRET_KEY");
  config.api.base_url = env.string("CLERK_API_URL", "https://api.clerk.com");
  if (config.api.base_url.rfind("https://", 0) != 0 &&
      config.api.base_url.rfind("http://", 0) != 0) {
    env.fail("CLERK_API_URL",
             "must start with https:// or http://, got '" + config.api.base_url + "'");
  }
  config.api.requests_per_second = static_cast<double>(
      env.integer("CLERK_API_RATE", default_api_rate(config.api.secret_key), 1, 1000));
  config.api.timeout = env.milliseconds("CLERK_API_TIMEOUT_MS", milliseconds(30000),
                                        milliseconds(100), milliseconds(600000));
  config.api.retry.max_attempts =
      static_cast<int>(env.integer("CLERK_API_MAX_ATTEMPTS", 8, 1, 100));
  config.api.retry.initial_backoff = env.milliseconds(
      "CLERK_API_BACKOFF_INITIAL_MS", milliseconds(500), milliseconds(1), milliseconds(60000));
  config.api.retry.max_backoff = env.milliseconds("CLERK_API_BACKOFF_MAX_MS", milliseconds(30000),
                                                  milliseconds(1), milliseconds(600000));
  config.page_size = static_cast<int>(env.integer("CLERK_API_PAGE_SIZE", 500, 2, 500));
  config.reconcile_catch_up = env.milliseconds("RECONCILE_CATCH_UP_MS", milliseconds(60000),
                                               milliseconds(0), milliseconds(3600000));
  config.progress_interval = env.milliseconds("SYNC_PROGRESS_INTERVAL_MS", milliseconds(5000),
                                              milliseconds(100), milliseconds(3600000));
  std::string level = env.string("LOG_LEVEL", "info");
  if (!common::logging::parse_level(level, config.log_level)) {
    env.fail("LOG_LEVEL", "must be debug, info, warn or error, got '" + level + "'");
  }
  return config;
}

const std::vector<std::string>& sync_variable_names() {
  static const std::vector<std::string> names = {"KAFKA_BROKERS",
                                                 "KAFKA_TOPIC",
                                                 "DATABASE_URL",
                                                 "CLERK_SECRET_KEY",
                                                 "CLERK_API_URL",
                                                 "CLERK_API_RATE",
                                                 "CLERK_API_TIMEOUT_MS",
                                                 "CLERK_API_MAX_ATTEMPTS",
                                                 "CLERK_API_BACKOFF_INITIAL_MS",
                                                 "CLERK_API_BACKOFF_MAX_MS",
                                                 "CLERK_API_PAGE_SIZE",
                                                 "SYNC_PROGRESS_INTERVAL_MS",
                                                 "RECONCILE_CATCH_UP_MS",
                                                 "LOG_LEVEL"};
  return names;
}

std::string sync_variables_help() {
  return R"(Environment (each also accepted as a flag: CLERK_API_RATE=5 or --clerk-api-rate 5):
  KAFKA_BROKERS                 required; host:port[,host:port]
  KAFKA_TOPIC                   topic to publish to (default clerk.events)
  DATABASE_URL                  required; postgresql://... (run log, checkpoints, mirror reads)
  CLERK_SECRET_KEY              required; sk_live_... or sk_test_... (sent as a Bearer token, never logged)
  CLERK_API_URL                 Clerk Backend API base URL (default https://api.clerk.com)
  CLERK_API_RATE                requests per second, 1-1000 (default 5 for an sk_test_ key, else
                                20: half and a fifth of what Clerk allows a development
                                instance (100 per 10 s) and a production one (1000 per 10 s))
  CLERK_API_TIMEOUT_MS          per-request timeout (default 30000)
  CLERK_API_MAX_ATTEMPTS        attempts per request on 5xx, timeouts, connection errors (default 8);
                                a 429 waits its Retry-After without using one (up to 100 in a row)
  CLERK_API_BACKOFF_INITIAL_MS  first retry delay, doubled per attempt (default 500)
  CLERK_API_BACKOFF_MAX_MS      cap of the retry delay (default 30000); a 429's Retry-After wins
  CLERK_API_PAGE_SIZE           list page size, 2-500 (default 500)
  SYNC_PROGRESS_INTERVAL_MS     progress log interval when stderr is not a terminal (default 5000)
  RECONCILE_CATCH_UP_MS         reconcile first waits up to this long for the workers to apply
                                what the topic already holds, so that events still in Kafka are
                                not reported as drift (default 60000; 0: do not wait)
  LOG_LEVEL                     debug, info, warn, error (default info)
)";
}

}  // namespace worker::sync
