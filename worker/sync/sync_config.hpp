#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "common/logging/logger.hpp"
#include "worker/sync/clerk_api_client.hpp"

namespace common::config {
class EnvReader;
}

namespace worker::sync {

/// Configuration of backfill, reconcile and sync, from the environment (flags
/// override: `--clerk-api-rate 5` for CLERK_API_RATE). Every variable is listed
/// in `sync_variables_help()` and in the README.
struct SyncConfig {
  std::string kafka_brokers;  ///< KAFKA_BROKERS, required
  std::string kafka_topic;    ///< KAFKA_TOPIC
  std::string database_url;   ///< DATABASE_URL, required (run log, checkpoints, reconcile)
  ClerkApiSettings api;       ///< CLERK_API_URL, CLERK_SECRET_KEY, CLERK_API_RATE, ...
  int page_size = 500;        ///< CLERK_API_PAGE_SIZE
  std::chrono::milliseconds progress_interval{5000};                 ///< SYNC_PROGRESS_INTERVAL_MS
  std::chrono::milliseconds reconcile_catch_up{60000};               ///< RECONCILE_CATCH_UP_MS
  common::logging::Level log_level = common::logging::Level::kInfo;  ///< LOG_LEVEL
};

/// Reads every variable, recording problems in `env` (the caller reports them all).
SyncConfig read_sync_config(common::config::EnvReader& env);

/// CLERK_API_RATE's default for a secret key: 5 requests per second for a development
/// instance's `sk_test_` key (Clerk allows it 10), else 20 (a production instance is
/// allowed 100). Pure.
int default_api_rate(std::string_view secret_key);

/// The variable names read_sync_config() reads, for EnvReader::apply_flags.
const std::vector<std::string>& sync_variable_names();

/// The "Environment" section of the commands' --help.
std::string sync_variables_help();

}  // namespace worker::sync
