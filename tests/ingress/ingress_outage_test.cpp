// The broker goes away: the real binary against a private broker that this test
// starts, freezes (SIGSTOP) and thaws (SIGCONT), so no other test is disturbed.
// Rows 45 (503 + Retry-After within the budget, never 2xx) and 46 (in-flight cap).
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "common/logging/logger.hpp"
#include "support/ingress_process.hpp"
#include "support/ingress_test_support.hpp"
#include "support/test_env.hpp"
#include "support/topic_reader.hpp"

using namespace ingress_test;
using namespace std::chrono_literals;

namespace {

/// A private single-node broker (ops/kafka/start in a fresh STATE_DIR). Always
/// thawed and stopped on the way out, whatever the test did.
class PrivateBroker {
 public:
  PrivateBroker() : state_("/tmp/" + test_support::unique_name("ingress_outage_kafka")) {
    ::mkdir(state_.c_str(), 0755);
    // KAFKA_BROKERS is deliberately not passed: start must launch its own broker.
    auto started =
        test_support::run(isolated({test_support::source_path("ops/kafka/start"), state_}), 120s);
    if (started.code != 0) throw std::runtime_error("ops/kafka/start failed: " + started.out);
    std::string env = test_support::read_file(state_ + "/env");
    std::size_t at = env.find("KAFKA_BROKERS=");
    brokers_ = env.substr(at + 14, env.find('\n', at) - at - 14);
    pid_ = std::stoi(test_support::read_file(state_ + "/kafka.pid"));
  }
  ~PrivateBroker() {
    ::kill(pid_, SIGCONT);
    test_support::run(isolated({test_support::source_path("ops/kafka/stop"), state_}), 60s);
    test_support::run(isolated({"/bin/rm", "-rf", state_}), 30s);
  }
  const std::string& brokers() const { return brokers_; }
  void freeze() { ::kill(pid_, SIGSTOP); }
  void thaw() { ::kill(pid_, SIGCONT); }

 private:
  std::string state_;
  std::string brokers_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("broker down: 503 with Retry-After within the budget, never 2xx; back up: accepted",
          "[e2e][ingress][row45][row46]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  PrivateBroker broker;
  std::string topic = test_support::unique_name("ingress_outage");
  create_topic(broker.brokers(), topic, logger);
  IngressProcess ingress({{"KAFKA_BROKERS", broker.brokers()},
                          {"KAFKA_TOPIC", topic},
                          {"CLERK_WEBHOOK_SECRET", std::string(kTestSecret)},
                          {"INGRESS_PUBLISH_TIMEOUT_MS", "2000"},
                          {"INGRESS_MAX_IN_FLIGHT", "2"},
                          {"INGRESS_RETRY_AFTER_SECONDS", "2"},
                          {"INGRESS_LOG_LEVEL", "info"}});
  ingress::signature::SignatureVerifier signer(
      std::vector<ingress::signature::WebhookSecret>{secret(kTestSecret)}, 300s);
  auto send = [&](std::string_view id, std::string_view body) {
    return exchange(ingress.port(), signed_post(signer, id, body), 10s);
  };

  // Healthy: accepted.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  std::optional<RawResponse> first;
  while (std::chrono::steady_clock::now() < deadline) {
    first = send("msg_before", user_created("user_before"));
    if (first && first->status == 200) break;
    std::this_thread::sleep_for(200ms);
  }
  REQUIRE(first);
  REQUIRE(first->status == 200);

  broker.freeze();
  const std::string body = user_created("user_outage");
  int two_hundreds = 0;

  // Two deliveries hang on the frozen broker; a third finds the in-flight cap (row 46).
  auto started = std::chrono::steady_clock::now();
  auto a = std::async(std::launch::async, [&] { return send("msg_outage", body); });
  auto b = std::async(std::launch::async, [&] { return send("msg_outage_b", body); });
  std::this_thread::sleep_for(300ms);
  auto capped = send("msg_outage_c", body);
  REQUIRE(capped);
  CHECK(capped->status == 503);
  CHECK(capped->body.find("overloaded") != std::string::npos);
  CHECK(capped->headers["retry-after"] == "2");
  CHECK(std::chrono::steady_clock::now() - started < 1500ms);

  // Row 45: both answered 503 with Retry-After within the 2 s budget (plus slack).
  for (auto* pending : {&a, &b}) {
    auto answer = pending->get();
    REQUIRE(answer);
    CHECK(answer->status == 503);
    CHECK(answer->headers["retry-after"] == "2");
    two_hundreds += answer->status / 100 == 2 ? 1 : 0;
  }
  CHECK(std::chrono::steady_clock::now() - started < 4s);

  // While frozen, nothing gets 2xx and readiness fails.
  for (int i = 0; i < 3; ++i) {
    auto answer = send("msg_outage", body);
    REQUIRE(answer);
    CHECK(answer->status == 503);
    two_hundreds += answer->status / 100 == 2 ? 1 : 0;
  }
  CHECK(two_hundreds == 0);
  bool unready = false;
  for (auto until = std::chrono::steady_clock::now() + 8s;
       std::chrono::steady_clock::now() < until;) {
    auto ready = exchange(ingress.port(), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    if (ready && ready->status == 503) {
      unready = true;
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  CHECK(unready);

  // Back up: the same delivery (same id and body, a fresh signature) is accepted.
  broker.thaw();
  std::optional<RawResponse> after;
  deadline = std::chrono::steady_clock::now() + 40s;
  while (std::chrono::steady_clock::now() < deadline) {
    after = send("msg_outage", body);
    if (after && after->status == 200) break;
    REQUIRE(after);
    CHECK(after->status == 503);  // until then, still never a 2xx
    std::this_thread::sleep_for(500ms);
  }
  REQUIRE(after);
  CHECK(after->status == 200);

  auto records = read_topic(broker.brokers(), topic, logger, [](const auto& records) {
    for (const auto& r : records) {
      if (header_of(r, "event-id") == "msg_outage") return true;
    }
    return false;
  });
  bool found = false;
  for (const auto& r : records) {
    if (header_of(r, "event-id") == "msg_outage") {
      found = true;
      CHECK(r.value == body);
    }
  }
  CHECK(found);

  ingress.process().signal(SIGTERM);
  REQUIRE(ingress.process().wait_for(20s));
  CHECK(ingress.process().wait() == 0);
}
