#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/logging/logger.hpp"
#include "ingress/signature/webhook_secret.hpp"

namespace common::config {
class EnvReader;
}

namespace ingress {

/// Everything the ingress reads at start. Field names are the variables' words.
struct IngressConfig {
  std::string kafka_brokers;                                   ///< KAFKA_BROKERS (required)
  std::string kafka_topic = "clerk.events";                    ///< KAFKA_TOPIC
  std::vector<signature::WebhookSecret> clerk_webhook_secret;  ///< CLERK_WEBHOOK_SECRET (required)
  std::string ingress_listen = "0.0.0.0:8080";                 ///< INGRESS_LISTEN
  int ingress_threads = 2;                                     ///< INGRESS_THREADS
  std::chrono::seconds ingress_timestamp_tolerance_seconds{300};
  std::uint64_t ingress_max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds ingress_publish_timeout_ms{10000};  ///< the publish budget
  std::size_t ingress_max_in_flight = 1024;
  std::size_t ingress_max_connections = 1024;
  std::chrono::milliseconds ingress_header_timeout_ms{10000};
  std::chrono::milliseconds ingress_body_timeout_ms{10000};
  std::chrono::milliseconds ingress_idle_timeout_ms{60000};
  std::chrono::milliseconds ingress_write_timeout_ms{10000};
  int ingress_retry_after_seconds = 5;
  std::size_t ingress_recent_ids = 10000;
  std::chrono::milliseconds ingress_kafka_linger_ms{5};
  common::logging::Level ingress_log_level = common::logging::Level::kInfo;
};

/// librdkafka's message.timeout.ms for a publish budget: 1.5 s below it, but at least
/// three quarters of it. librdkafka reports an expired record on a scan about once a
/// second; ending the record's life well before the budget makes the 503 that the
/// budget answers almost always follow a delivery that failed, rather than one that
/// lands in Kafka a moment after the sender was told it did not. Pure.
std::chrono::milliseconds delivery_timeout_for(std::chrono::milliseconds publish_budget);

/// The variable names read_ingress_config() knows (for EnvReader::apply_flags).
std::vector<std::string> ingress_config_variables();

/// Reads and validates every variable; problems go to `env` (one line each, naming
/// the variable, never quoting a secret). Pure apart from `env`'s lookups.
IngressConfig read_ingress_config(common::config::EnvReader& env);

/// The --help text: usage and every variable with its default.
std::string ingress_usage();

}  // namespace ingress
