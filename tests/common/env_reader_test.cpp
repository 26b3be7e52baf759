#include "common/config/env_reader.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "support/env_map.hpp"

using common::config::ConfigError;
using test_support::env_reader;

TEST_CASE("every problem is reported at once, each naming its variable", "[unit][config]") {
  auto env = env_reader({{"KAFKA_BROKERS", ""}, {"DATABASE_URL", "nonsense"}, {"PORTS", "x"}});
  env.brokers("KAFKA_BROKERS");
  env.database_url("DATABASE_URL");
  env.integer("PORTS", 1, 1, 10);
  env.required("CLERK_SECRET_KEY");
  REQUIRE(env.problems().size() == 4);
  CHECK(env.problems()[0].rfind("KAFKA_BROKERS ", 0) == 0);
  CHECK(env.problems()[1].rfind("DATABASE_URL ", 0) == 0);
  CHECK(env.problems()[2].rfind("PORTS ", 0) == 0);
  CHECK(env.problems()[3] == "CLERK_SECRET_KEY is not set");
  CHECK_THROWS_AS(env.throw_if_problems(), ConfigError);
}

TEST_CASE("valid values are returned and defaults apply", "[unit][config]") {
  auto env = env_reader({{"KAFKA_BROKERS", "127.0.0.1:9092, localhost:9093"},
                         {"DATABASE_URL", "postgresql://u@h:5/db"},
                         {"N", "7"},
                         {"FLAG", "yes"}});
  CHECK(env.brokers("KAFKA_BROKERS") == "127.0.0.1:9092,localhost:9093");
  CHECK(env.database_url("DATABASE_URL") == "postgresql://u@h:5/db");
  CHECK(env.integer("N", 1, 1, 10) == 7);
  CHECK(env.integer("MISSING", 3, 1, 10) == 3);
  CHECK(env.boolean("FLAG", false));
  CHECK(env.string("KAFKA_TOPIC", "clerk.events") == "clerk.events");
  CHECK(env.listen_address("INGRESS_LISTEN", "0.0.0.0:8080") == "0.0.0.0:8080");
  CHECK(env.problems().empty());
}

TEST_CASE("brokers and listen addresses are validated", "[unit][config]") {
  auto env = env_reader({{"B", "nohostport"}, {"L", "127.0.0.1:99999"}, {"L6", "[::1]:80"}});
  env.brokers("B");
  env.listen_address("L", "");
  CHECK(env.listen_address("L6", "") == "[::1]:80");
  REQUIRE(env.problems().size() == 2);
  CHECK(env.problems()[0].find("host:port") != std::string::npos);
}

TEST_CASE("flags override the environment", "[unit][config]") {
  auto env = env_reader({{"KAFKA_TOPIC", "from.env"}});
  auto rest = env.apply_flags({"--kafka-topic=from.flag", "--worker-batch", "5", "positional"},
                              {"KAFKA_TOPIC", "WORKER_BATCH"});
  CHECK(rest == std::vector<std::string>{"positional"});
  CHECK(env.string("KAFKA_TOPIC", "") == "from.flag");
  CHECK(env.integer("WORKER_BATCH", 1, 1, 10) == 5);
  env.apply_flags({"--nope=1"}, {"KAFKA_TOPIC"});
  REQUIRE(env.problems().size() == 1);
  CHECK(env.problems()[0] == "--nope: unknown option");
}

TEST_CASE("lists split on spaces and commas", "[unit][config]") {
  auto env = env_reader({{"S", "whsec_a whsec_b,whsec_c ,"}});
  CHECK(env.list("S", true) == std::vector<std::string>{"whsec_a", "whsec_b", "whsec_c"});
  env.list("EMPTY", true);
  CHECK(env.problems() == std::vector<std::string>{"EMPTY is not set"});
}
