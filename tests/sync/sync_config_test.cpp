// The Backend API rate's default follows the kind of instance the secret key is for.
#include "worker/sync/sync_config.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "common/config/env_reader.hpp"
#include "support/env_map.hpp"

using test_support::env_reader;

namespace {

std::map<std::string, std::string> required(const std::string& secret_key) {
  return {{"KAFKA_BROKERS", "127.0.0.1:9092"},
          {"DATABASE_URL", "postgresql://mirror@127.0.0.1:5432/mirror"},
          {"CLERK_SECRET_KEY", secret_key}};
}

}  // namespace

TEST_CASE("sync config: the API rate stays within the instance's share by default", "[unit]") {
  auto development = env_reader(required("sk_test_abc"));
  auto dev = worker::sync::read_sync_config(development);
  CHECK(development.problems().empty());
  CHECK(dev.api.requests_per_second == 5);

  auto production = env_reader(required("sk_live_abc"));
  auto live = worker::sync::read_sync_config(production);
  CHECK(production.problems().empty());
  CHECK(live.api.requests_per_second == 20);

  CHECK(worker::sync::default_api_rate("") == 20);
  CHECK(worker::sync::default_api_rate("sk_test") == 20);
}

TEST_CASE("sync config: CLERK_API_RATE wins over the default and is range-checked", "[unit]") {
  auto values = required("sk_test_abc");
  values["CLERK_API_RATE"] = "50";
  auto chosen = env_reader(values);
  CHECK(worker::sync::read_sync_config(chosen).api.requests_per_second == 50);
  CHECK(chosen.problems().empty());

  values["CLERK_API_RATE"] = "0";
  auto zero = env_reader(values);
  worker::sync::read_sync_config(zero);
  REQUIRE(zero.problems().size() == 1);
  CHECK_THAT(zero.problems().front(), Catch::Contains("CLERK_API_RATE"));
}
