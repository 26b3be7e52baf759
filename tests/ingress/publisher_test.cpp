// KafkaEventPublisher's own logic (producer recreation, failure mapping) against a
// fake RecordProducer; the real broker is exercised by the e2e suites.
#include <catch2/catch.hpp>
#include <cstdio>
#include <future>
#include <string>
#include <thread>

#include "common/logging/logger.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "ingress/ingress_metrics.hpp"
#include "ingress/publish/kafka_event_publisher.hpp"
#include "ingress/webhook/recent_deliveries.hpp"

using common::kafka::DeliveryReport;
using common::kafka::EnqueueResult;
using ingress::publish::PublishResult;
using ingress::publish::PublishStatus;
using namespace std::chrono_literals;

namespace {

/// Shared by every FakeProducer a factory made, so the test can steer them.
struct Script {
  std::atomic<bool> fatal_next{false};  ///< next delivery report says fatal
  std::atomic<bool> queue_full{false};
  std::atomic<bool> ping_ok{true};
  std::atomic<int> created{0};
  std::atomic<int> destroyed{0};
};

class FakeProducer : public ingress::publish::RecordProducer {
 public:
  explicit FakeProducer(Script& script) : script_(script) { ++script_.created; }
  ~FakeProducer() override { ++script_.destroyed; }
  EnqueueResult produce(common::kafka::OutgoingRecord&&,
                        common::kafka::DeliveryCallback on_delivery, std::string* error) override {
    if (fatal_) {
      if (error) *error = "fatal";
      return EnqueueResult::kFailed;
    }
    if (script_.queue_full.load()) return EnqueueResult::kQueueFull;
    DeliveryReport report;
    if (script_.fatal_next.exchange(false)) {
      fatal_ = true;
      report.fatal = true;
      report.error = "Local: Fatal error";
    } else {
      report.persisted = true;
    }
    on_delivery(report);
    return EnqueueResult::kQueued;
  }
  bool has_fatal_error() const override { return fatal_.load(); }
  bool ping(std::chrono::milliseconds) const override { return script_.ping_ok.load(); }
  bool flush(std::chrono::milliseconds) override { return true; }

 private:
  Script& script_;
  std::atomic<bool> fatal_{false};
};

struct Fixture {
  std::FILE* sink = std::fopen("/dev/null", "w");
  common::logging::Logger logger{"test", common::logging::Level::kError, sink};
  common::metrics::MetricsRegistry registry;
  ingress::IngressMetrics metrics{registry.registry(), 1};
  Script script;
  ingress::publish::KafkaEventPublisher publisher{
      [this] { return std::make_unique<FakeProducer>(script); }, metrics, logger, 50ms};
  ~Fixture() { std::fclose(sink); }

  PublishResult publish() {
    std::promise<PublishResult> promise;
    auto future = promise.get_future();
    publisher.publish({"t", "k", "v", {}, {}, 0},
                      [&promise](const PublishResult& r) { promise.set_value(r); });
    return future.get();
  }
};

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 2s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace

TEST_CASE("publisher: persisted reports succeed and readiness follows the broker ping",
          "[unit][publish]") {
  Fixture f;
  CHECK(f.publish().status == PublishStatus::kPersisted);
  CHECK(eventually([&f] { return f.publisher.ready(); }));
  f.script.ping_ok = false;
  CHECK(eventually([&f] { return !f.publisher.ready(); }));
}

TEST_CASE("publisher: a fatal producer error fails fast, then the producer is recreated",
          "[unit][publish]") {
  Fixture f;
  f.script.fatal_next = true;
  PublishResult fatal = f.publish();
  CHECK(fatal.status == PublishStatus::kFailed);
  REQUIRE(eventually([&f] { return f.publisher.generation() == 2; }));
  CHECK(eventually([&f] { return f.script.destroyed.load() == 1; }));
  CHECK(f.publish().status == PublishStatus::kPersisted);
  CHECK(f.script.created.load() == 2);
  std::string text = f.registry.render();
  CHECK(text.find("clerk_mirror_ingress_producer_recreated_total 1") != std::string::npos);
  CHECK(text.find("clerk_mirror_ingress_producer_errors_total{kind=\"fatal\"} 1") !=
        std::string::npos);
}

TEST_CASE("publisher: a full local queue is reported as such", "[unit][publish]") {
  Fixture f;
  f.script.queue_full = true;
  CHECK(f.publish().status == PublishStatus::kQueueFull);
  f.script.queue_full = false;
  CHECK(f.publish().status == PublishStatus::kPersisted);
}

TEST_CASE("recent deliveries: bounded, least recently used forgotten first", "[unit][webhook]") {
  using ingress::webhook::fingerprint;
  using ingress::webhook::Recall;
  auto one = fingerprint(R"({"type":"user.created","data":{"id":"user_1"}})");
  auto two = fingerprint(R"({"type":"user.created","data":{"id":"user_2"}})");
  CHECK_FALSE(one == two);
  CHECK(fingerprint("abc") == fingerprint(std::string("abc")));
  ingress::webhook::RecentDeliveries recent(2);
  CHECK(recent.observe("a", one) == Recall::kNew);
  CHECK(recent.observe("a", one) == Recall::kSameBody);
  recent.mark_persisted("a", one);
  CHECK(recent.observe("a", one) == Recall::kSameBodyPersisted);
  CHECK(recent.observe("a", two) == Recall::kDifferentBody);
  CHECK(recent.observe("b", one) == Recall::kNew);
  CHECK(recent.observe("a", one) == Recall::kSameBodyPersisted);  // a is now most recent
  CHECK(recent.observe("c", one) == Recall::kNew);                // evicts b
  CHECK(recent.size() == 2);
  CHECK(recent.observe("b", two) == Recall::kNew);
  ingress::webhook::RecentDeliveries off(0);
  CHECK(off.observe("a", one) == Recall::kNew);
  CHECK(off.observe("a", two) == Recall::kNew);
}

TEST_CASE("recent deliveries: the index survives many evictions; long ids are told apart",
          "[unit][webhook]") {
  using ingress::webhook::fingerprint;
  using ingress::webhook::Recall;
  auto body = fingerprint("{}");
  const std::size_t capacity = 1000;
  ingress::webhook::RecentDeliveries recent(capacity);
  auto id = [](int i) { return "msg_" + std::to_string(i * 7919); };
  for (int i = 0; i < 5000; ++i)
    REQUIRE(recent.observe(id(i), body) == Recall::kNew);
  CHECK(recent.size() == capacity);
  // Nothing was looked up twice, so the last `capacity` ids are the ones remembered.
  int remembered = 0;
  for (int i = 4000; i < 5000; ++i)
    remembered += recent.observe(id(i), body) == Recall::kSameBody ? 1 : 0;
  CHECK(remembered == 1000);
  CHECK(recent.observe(id(3999), body) == Recall::kNew);
  CHECK(recent.observe(id(0), body) == Recall::kNew);

  std::string prefix(100, 'x');
  ingress::webhook::RecentDeliveries long_ids(4);
  CHECK(long_ids.observe(prefix + "1", body) == Recall::kNew);
  CHECK(long_ids.observe(prefix + "2", body) == Recall::kNew);
  CHECK(long_ids.observe(prefix + "1", body) == Recall::kSameBody);
  CHECK(long_ids.observe(prefix + "2", fingerprint("[]")) == Recall::kDifferentBody);
}
