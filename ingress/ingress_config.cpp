#include "ingress/ingress_config.hpp"

#include <algorithm>
#include <thread>

#include "common/config/env_reader.hpp"

namespace ingress {
namespace {

using std::chrono::milliseconds;

bool valid_topic(const std::string& topic) {
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") return false;
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> ingress_config_variables() {
  return {"KAFKA_BROKERS",
          "KAFKA_TOPIC",
          "CLERK_WEBHOOK_SECRET",
          "INGRESS_LISTEN",
          "INGRESS_THREADS",
          "INGRESS_TIMESTAMP_TOLERANCE_SECONDS",
          "INGRESS_MAX_BODY_BYTES",
          "INGRESS_PUBLISH_TIMEOUT_MS",
          "INGRESS_MAX_IN_FLIGHT",
          "INGRESS_MAX_CONNECTIONS",
          "INGRESS_HEADER_TIMEOUT_MS",
          "INGRESS_BODY_TIMEOUT_MS",
          "INGRESS_IDLE_TIMEOUT_MS",
          "INGRESS_WRITE_TIMEOUT_MS",
          "INGRESS_RETRY_AFTER_SECONDS",
          "INGRESS_RECENT_IDS",
          "INGRESS_KAFKA_LINGER_MS",
          "INGRESS_LOG_LEVEL"};
}

std::chrono::milliseconds delivery_timeout_for(std::chrono::milliseconds publish_budget) {
  return std::max(publish_budget - std::chrono::milliseconds(1500), publish_budget * 3 / 4);
}

IngressConfig read_ingress_config(common::config::EnvReader& env) {
  IngressConfig c;
  c.kafka_brokers = env.brokers("KAFKA_BROKERS");
  c.kafka_topic = env.string("KAFKA_TOPIC", c.kafka_topic);
  if (!valid_topic(c.kafka_topic)) {
    env.fail("KAFKA_TOPIC", "must be 1 to 249 of [a-zA-Z0-9._-], got '" + c.kafka_topic + "'");
  }
  std::vector<std::string> secrets = env.list("CLERK_WEBHOOK_SECRET", true);
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    std::string problem;
    if (auto secret = signature::parse_webhook_secret(secrets[i], problem)) {
      c.clerk_webhook_secret.push_back(std::move(*secret));
    } else {
      env.fail("CLERK_WEBHOOK_SECRET", "entry " + std::to_string(i + 1) + " of " +
                                           std::to_string(secrets.size()) + " " + problem);
    }
  }
  c.ingress_listen = env.listen_address("INGRESS_LISTEN", c.ingress_listen);
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  c.ingress_threads = static_cast<int>(env.integer("INGRESS_THREADS", cores, 1, 256));
  c.ingress_timestamp_tolerance_seconds =
      std::chrono::seconds(env.integer("INGRESS_TIMESTAMP_TOLERANCE_SECONDS", 300, 1, 3600));
  c.ingress_max_body_bytes = static_cast<std::uint64_t>(
      env.integer("INGRESS_MAX_BODY_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024));
  // Svix gives up after 15 s: answering later than that helps nobody.
  c.ingress_publish_timeout_ms = env.milliseconds("INGRESS_PUBLISH_TIMEOUT_MS", milliseconds(10000),
                                                  milliseconds(100), milliseconds(14000));
  c.ingress_max_in_flight =
      static_cast<std::size_t>(env.integer("INGRESS_MAX_IN_FLIGHT", 1024, 1, 1'000'000));
  c.ingress_max_connections =
      static_cast<std::size_t>(env.integer("INGRESS_MAX_CONNECTIONS", 1024, 1, 1'000'000));
  c.ingress_header_timeout_ms = env.milliseconds("INGRESS_HEADER_TIMEOUT_MS", milliseconds(10000),
                                                 milliseconds(100), milliseconds(300000));
  c.ingress_body_timeout_ms = env.milliseconds("INGRESS_BODY_TIMEOUT_MS", milliseconds(10000),
                                               milliseconds(100), milliseconds(300000));
  c.ingress_idle_timeout_ms = env.milliseconds("INGRESS_IDLE_TIMEOUT_MS", milliseconds(60000),
                                               milliseconds(100), milliseconds(3600000));
  c.ingress_write_timeout_ms = env.milliseconds("INGRESS_WRITE_TIMEOUT_MS", milliseconds(10000),
                                                milliseconds(100), milliseconds(300000));
  c.ingress_retry_after_seconds =
      static_cast<int>(env.integer("INGRESS_RETRY_AFTER_SECONDS", 5, 1, 3600));
  c.ingress_recent_ids =
      static_cast<std::size_t>(env.integer("INGRESS_RECENT_IDS", 10000, 0, 10'000'000));
  // 5 ms, librdkafka's own default: fewer, larger produce requests. Measured against
  // 2 ms on a 2-CPU machine (ops/bench/ingress): the broker spends about a third less
  // CPU per record and the ingress accepts 2-8% more, for ~2 ms more at the median.
  c.ingress_kafka_linger_ms = env.milliseconds("INGRESS_KAFKA_LINGER_MS", milliseconds(5),
                                               milliseconds(0), milliseconds(1000));
  std::string level = env.string("INGRESS_LOG_LEVEL", "info");
  if (!common::logging::parse_level(level, c.ingress_log_level)) {
    env.fail("INGRESS_LOG_LEVEL", "must be debug, info, warn or error, got '" + level + "'");
  }
  return c;
}

std::string ingress_usage() {
  return R"(usage: clerk-mirror-ingress [--help] [--VARIABLE-NAME value ...]

Receives Clerk webhooks (Svix / Standard Webhooks) on POST /webhooks/clerk,
verifies them and publishes the exact body to Kafka; answers 2xx only after the
broker acknowledged. Also GET /healthz, /readyz, /metrics on the same address.

Configuration (environment; a flag such as --kafka-topic overrides KAFKA_TOPIC):
  KAFKA_BROKERS                         host:port[,host:port...]          (required)
  KAFKA_TOPIC                           topic to publish to        [clerk.events]
  CLERK_WEBHOOK_SECRET                  whsec_... secrets, space or comma
                                        separated; any may match   (required)
  INGRESS_LISTEN                        host:port                  [0.0.0.0:8080]
  INGRESS_THREADS                       I/O threads                [CPU cores]
  INGRESS_TIMESTAMP_TOLERANCE_SECONDS   accepted clock skew, each way      [300]
  INGRESS_MAX_BODY_BYTES                larger bodies get 413          [1048576]
  INGRESS_PUBLISH_TIMEOUT_MS            budget for the broker's ack; then 503
                                        (at most 14000, below Svix's 15 s) [10000]
  INGRESS_MAX_IN_FLIGHT                 publishes awaiting the broker; then 503
                                                                          [1024]
  INGRESS_MAX_CONNECTIONS               open connections; then 503 + close [1024]
  INGRESS_HEADER_TIMEOUT_MS             request head deadline; then 408  [10000]
  INGRESS_BODY_TIMEOUT_MS               request body deadline; then 408  [10000]
  INGRESS_IDLE_TIMEOUT_MS               keep-alive idle time; then close [60000]
  INGRESS_WRITE_TIMEOUT_MS              writing an answer; then close    [10000]
  INGRESS_RETRY_AFTER_SECONDS           Retry-After on 503                   [5]
  INGRESS_RECENT_IDS                    delivery ids remembered for duplicate
                                        and id-reuse detection; 0 = off  [10000]
  INGRESS_KAFKA_LINGER_MS               producer batching delay (linger.ms)  [5]
  INGRESS_LOG_LEVEL                     debug, info, warn, error          [info]

Exit status: 0 after a graceful stop (SIGTERM/SIGINT), 2 on bad configuration
(one line per problem on stderr), 1 when the address cannot be bound.
)";
}

}  // namespace ingress
