// Configuration: every problem at once, one line naming each variable, no secrets.
#include "ingress/ingress_config.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "common/config/env_reader.hpp"
#include "support/env_map.hpp"

using test_support::env_reader;

TEST_CASE("config: defaults with the two required variables", "[unit][config]") {
  auto env = env_reader({{"KAFKA_BROKERS", "127.0.0.1:9092"},
                         {"CLERK_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}});
  ingress::IngressConfig c = ingress::read_ingress_config(env);
  CHECK(env.problems().empty());
  CHECK(c.kafka_topic == "clerk.events");
  CHECK(c.ingress_listen == "0.0.0.0:8080");
  CHECK(c.clerk_webhook_secret.size() == 1);
  CHECK(c.ingress_timestamp_tolerance_seconds == std::chrono::seconds(300));
  CHECK(c.ingress_max_body_bytes == 1024 * 1024);
  CHECK(c.ingress_publish_timeout_ms == std::chrono::milliseconds(10000));
}

TEST_CASE("config: a record's life in librdkafka ends before the publish budget",
          "[unit][config]") {
  using std::chrono::milliseconds;
  CHECK(ingress::delivery_timeout_for(milliseconds(10000)) == milliseconds(8500));
  CHECK(ingress::delivery_timeout_for(milliseconds(14000)) == milliseconds(12500));
  CHECK(ingress::delivery_timeout_for(milliseconds(2000)) == milliseconds(1500));
  CHECK(ingress::delivery_timeout_for(milliseconds(100)) == milliseconds(75));
}

TEST_CASE("config: several secrets separated by spaces or commas", "[unit][config]") {
  auto env =
      env_reader({{"KAFKA_BROKERS", "127.0.0.1:9092"},
                  {"CLERK_WEBHOOK_SECRET",
                   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "
                   "whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdHMtb25seQ=="}});
  ingress::IngressConfig c = ingress::read_ingress_config(env);
  CHECK(env.problems().empty());
  CHECK(c.clerk_webhook_secret.size() == 3);
}

TEST_CASE("config: every problem is reported, each naming its variable, never the secret",
          "[unit][config]") {
  auto env =
      env_reader({{"KAFKA_BROKERS", "nohost"},
                  {"KAFKA_TOPIC", "bad topic!"},
                  {"CLERK_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_s3cr3t!!"},
                  {"INGRESS_LISTEN", "8080"},
                  {"INGRESS_THREADS", "0"},
                  {"INGRESS_PUBLISH_TIMEOUT_MS", "20000"},
                  {"INGRESS_LOG_LEVEL", "loud"}});
  ingress::read_ingress_config(env);
  const auto& problems = env.problems();
  auto mentions = [&problems](std::string_view variable) {
    int n = 0;
    for (const auto& p : problems)
      n += p.rfind(std::string(variable) + " ", 0) == 0 ? 1 : 0;
    return n;
  };
  CHECK(mentions("KAFKA_BROKERS") == 1);
  CHECK(mentions("KAFKA_TOPIC") == 1);
  CHECK(mentions("CLERK_WEBHOOK_SECRET") == 1);
  CHECK(mentions("INGRESS_LISTEN") == 1);
  CHECK(mentions("INGRESS_THREADS") == 1);
  CHECK(mentions("INGRESS_PUBLISH_TIMEOUT_MS") == 1);
  CHECK(mentions("INGRESS_LOG_LEVEL") == 1);
  CHECK(problems.size() == 7);
  for (const auto& p : problems)
    CHECK(p.find("s3cr3t") == std::string::npos);
}

TEST_CASE("config: missing required variables", "[unit][config]") {
  auto env = env_reader({});
  ingress::read_ingress_config(env);
  REQUIRE(env.problems().size() == 2);
  CHECK(env.problems()[0].rfind("KAFKA_BROKERS", 0) == 0);
  CHECK(env.problems()[1].rfind("CLERK_WEBHOOK_SECRET", 0) == 0);
}
