// `clerk-mirror worker`'s configuration: defaults, and the admin token's rule.
#include "worker/config/worker_config.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "support/env_map.hpp"

using test_support::env_reader;

namespace {

std::map<std::string, std::string> required() {
  return {{"KAFKA_BROKERS", "127.0.0.1:9092"},
          {"DATABASE_URL", "postgresql://mirror@127.0.0.1:5432/mirror"}};
}

bool names(const std::vector<std::string>& problems, const std::string& variable) {
  for (const auto& p : problems)
    if (p.find(variable) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("worker config: defaults, and the admin API off without a token", "[unit]") {
  auto env = env_reader(required());
  auto config = worker::config::read_worker_config(env);
  CHECK(env.problems().empty());
  CHECK(config.topic == "clerk.events");
  CHECK(config.admin_listen == "127.0.0.1:9090");
  CHECK(config.admin_token.empty());
  CHECK(config.group_id == "clerk-mirror-worker");
  CHECK(config.batch_max_events == 5000);
}

TEST_CASE("worker config: ADMIN_TOKEN must be at least 16 characters", "[unit]") {
  auto values = required();
  values["ADMIN_TOKEN"] = "short-token";
  auto short_env = env_reader(values);
  worker::config::read_worker_config(short_env);
  CHECK(names(short_env.problems(), "ADMIN_TOKEN"));

  values["ADMIN_TOKEN"] = "0123456789abcdef";
  auto long_env = env_reader(values);
  auto config = worker::config::read_worker_config(long_env);
  CHECK(long_env.problems().empty());
  CHECK(config.admin_token == "0123456789abcdef");
}
