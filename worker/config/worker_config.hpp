#pragma once
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/logging/logger.hpp"
#include "worker/retry/retry_policy.hpp"

namespace common::config {
class EnvReader;
}

namespace worker::config {

/// Everything `clerk-mirror worker` reads at start. Field names follow the
/// variables (WORKER_BATCH_MAX_EVENTS <-> batch_max_events). Value type.
struct WorkerConfig {
  std::string brokers;       ///< KAFKA_BROKERS (required)
  std::string topic;         ///< KAFKA_TOPIC, default clerk.events
  int topic_partitions = 6;  ///< KAFKA_TOPIC_PARTITIONS: used only to create a missing topic
  std::string database_url;  ///< DATABASE_URL (required)
  std::string admin_listen;  ///< ADMIN_LISTEN, default 127.0.0.1:9090 (port 0: any free port)
  /// ADMIN_TOKEN: the bearer token of the admin API (/admin/...), at least 16
  /// characters; empty (default): the admin routes answer 403.
  std::string admin_token;
  std::string group_id;  ///< WORKER_GROUP_ID, default clerk-mirror-worker
  /// WORKER_GROUP_INSTANCE_ID: static group membership (group.instance.id); a
  /// restarted worker with the same id takes its partitions back without a
  /// rebalance. Empty (default): dynamic membership.
  std::string group_instance_id;
  std::string worker_name;  ///< WORKER_NAME, default <hostname>:<pid>; in dead-letter headers
  std::size_t batch_max_events = 5000;               ///< WORKER_BATCH_MAX_EVENTS
  std::chrono::milliseconds batch_max_wait{50};      ///< WORKER_BATCH_MAX_WAIT_MS
  std::chrono::milliseconds session_timeout{10000};  ///< WORKER_SESSION_TIMEOUT_MS (group)
  retry::RetryConfig retry;  ///< WORKER_RETRY_DELAYS_MS, WORKER_BACKOFF_INITIAL_MS, _MAX_MS
  std::chrono::hours audit_retention{24 * 30};  ///< WORKER_AUDIT_RETENTION_HOURS (0: keep)
  bool migrate_on_start = true;                 ///< WORKER_MIGRATE
  common::logging::Level log_level = common::logging::Level::kInfo;  ///< LOG_LEVEL
};

/// The variable names read_worker_config() understands (for EnvReader::apply_flags).
std::vector<std::string> worker_config_variables();

/// Reads and validates; every problem is recorded on `env` (check env.problems()).
WorkerConfig read_worker_config(common::config::EnvReader& env);

/// Parses "5000,60000,600000" (milliseconds, separated by commas or spaces). Pure.
bool parse_delays(const std::string& text, std::vector<std::chrono::milliseconds>& out);

}  // namespace worker::config
