// ConsumerLoop between the real broker and the real database, run in this
// process so that a fault can be put exactly between two of its steps.
#include "worker/consume/consumer_loop.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "common/kafka/kafka_consumer.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/logging/logger.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "common/process/stop_signal.hpp"
#include "worker/consume/batch_processor.hpp"
#include "worker/consume/failure_router.hpp"
#include "worker/observe/worker_metrics.hpp"
#include "worker/retry/retry_policy.hpp"
#include "worker/store/migration.hpp"
#include "worker/store/pg_migrator.hpp"
#include "worker/store/pg_mirror_store.hpp"
#include "worker/store/store_error.hpp"
#include "worker/support/forwarding_store.hpp"
#include "worker/support/pipeline.hpp"
#include "worker/support/scratch_database.hpp"

using namespace worker;
using std::chrono::milliseconds;

namespace {

constexpr std::int64_t T = 1700000000000;

class RecordingRouter : public consume::FailureRouter {
 public:
  void publish(const std::vector<common::kafka::OutgoingRecord>& records) override {
    published.insert(published.end(), records.begin(), records.end());
  }
  std::vector<common::kafka::OutgoingRecord> published;
};

/// Forwards to the real transaction, except that the first known_event_ids()
/// after a fence fails as a lost connection would: the rest of the batch then
/// has to be retried while the fenced partition still needs its seek.
class FailingAfterFence : public worker_test::ForwardingTransaction {
 public:
  FailingAfterFence(std::unique_ptr<store::MirrorTransaction> real, bool& fence_seen, bool& failed)
      : ForwardingTransaction(std::move(real)), fence_seen_(fence_seen), failed_(failed) {}
  store::Claim claim(const std::vector<store::PartitionRange>& ranges) override {
    auto claim = ForwardingTransaction::claim(ranges);
    if (!claim.fenced.empty()) fence_seen_ = true;
    return claim;
  }
  std::unordered_set<std::string> known_event_ids(const std::vector<std::string>& ids) override {
    if (fence_seen_ && !failed_) {
      failed_ = true;
      throw store::StoreError(store::StoreFailure::kConnectionLost, "",
                              "connection lost (injected by the test)");
    }
    return ForwardingTransaction::known_event_ids(ids);
  }

 private:
  bool& fence_seen_;
  bool& failed_;
};

/// The real store; before its first transaction another consumer "commits"
/// offsets 0..2 of partition 0, so that this loop's first batch is fenced there.
class InterferedStore : public worker_test::ForwardingStore {
 public:
  InterferedStore(store::MirrorStore& real, std::string url, std::string group, std::string topic)
      : ForwardingStore(real),
        url_(std::move(url)),
        group_(std::move(group)),
        topic_(std::move(topic)) {}
  std::unique_ptr<store::MirrorTransaction> begin() override {
    if (!interfered_) {
      interfered_ = true;
      pqxx::connection c(url_);
      pqxx::work w(c);
      w.exec_params(
          "insert into clerk.consumer_offsets (consumer_group, topic, partition, next_offset) "
          "values ($1, $2, 0, 3)",
          group_, topic_);
      w.commit();
    }
    return std::make_unique<FailingAfterFence>(ForwardingStore::begin(), fence_seen, failed);
  }
  bool fence_seen = false;
  bool failed = false;

 private:
  std::string url_, group_, topic_;
  bool interfered_ = false;
};

/// The real store, except that reading stored offsets fails as a lost connection
/// would until `outage_until`: a database that is down when partitions are assigned.
class OffsetsOutageStore : public worker_test::ForwardingStore {
 public:
  OffsetsOutageStore(store::MirrorStore& real, std::chrono::steady_clock::time_point outage_until)
      : ForwardingStore(real), outage_until_(outage_until) {}
  std::vector<common::kafka::TopicPartition> load_offsets(
      const std::vector<common::kafka::TopicPartition>& partitions) override {
    ++load_calls;
    if (std::chrono::steady_clock::now() < outage_until_) {
      throw store::StoreError(store::StoreFailure::kConnectionLost, "",
                              "connection lost (injected by the test)");
    }
    return ForwardingStore::load_offsets(partitions);
  }
  std::atomic<int> load_calls{0};

 private:
  std::chrono::steady_clock::time_point outage_until_;
};

/// Stands between the consumer and the loop to count assignments and time the
/// rebalance callback.
class TimedListener : public common::kafka::RebalanceListener {
 public:
  explicit TimedListener(common::kafka::RebalanceListener& inner) : inner_(inner) {}
  common::kafka::Assignment on_assigned(
      const std::vector<common::kafka::TopicPartition>& partitions) override {
    auto started = std::chrono::steady_clock::now();
    auto assignment = inner_.on_assigned(partitions);
    note(std::chrono::steady_clock::now() - started);
    ++assigned;
    return assignment;
  }
  void on_revoked(const std::vector<common::kafka::TopicPartition>& partitions) override {
    inner_.on_revoked(partitions);
    ++revoked;
  }
  std::atomic<int> assigned{0};
  std::atomic<int> revoked{0};
  std::atomic<std::int64_t> longest_ms{0};

 private:
  void note(std::chrono::steady_clock::duration took) {
    auto ms = std::chrono::duration_cast<milliseconds>(took).count();
    if (ms > longest_ms.load()) longest_ms.store(ms);
  }
  common::kafka::RebalanceListener& inner_;
};

common::kafka::OutgoingRecord user_record(const std::string& topic, std::int32_t partition, int n) {
  std::string id = "user_" + std::to_string(n);
  std::int64_t ts = T + n;
  return {topic,
          id,
          worker_test::envelope("user.updated", worker_test::user_data(id, ts, "u"), ts),
          {{"event-id", "evt_" + std::to_string(n)},
           {"event-type", "user.updated"},
           {"event-timestamp", std::to_string(ts)},
           {"source", "webhook"}},
          partition,
          0};
}

void produce_all(common::kafka::KafkaProducer& producer,
                 const std::vector<common::kafka::OutgoingRecord>& records) {
  int failed = 0;
  for (const auto& r : records) {
    producer.produce(r, [&failed](const common::kafka::DeliveryReport& report) {
      if (!report.persisted) ++failed;
    });
  }
  REQUIRE(producer.flush(std::chrono::seconds(30)));
  REQUIRE(failed == 0);
}

std::int64_t scalar(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::nontransaction n(c);
  return n.exec1(sql)[0].as<std::int64_t>();
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return done();
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// One worker's consumer loop, run on a thread of this process over the real store
/// and broker, with reading stored offsets failing until `outage_until`.
struct OutageMember {
  OutageMember(const std::string& url, std::string group_id, const std::string& topic,
               std::chrono::steady_clock::time_point outage_until, common::logging::Logger& log)
      : group(std::move(group_id)),
        logger(log),
        metrics(registry.registry()),
        policy(retry::RetryConfig{{}, milliseconds(10), milliseconds(200)}),
        real_store(url, group, logger),
        store(real_store, outage_until),
        processor(store, router, policy, metrics, logger, {topic, "loop-outage"}, epoch_ms),
        loop(settings(topic), store, processor, policy, metrics, logger, epoch_ms),
        listener(loop) {}
  ~OutageMember() { stop(); }

  void start(const std::string& brokers, common::kafka::Properties extra = {}) {
    runner = std::thread([this, brokers, extra] {
      common::kafka::ConsumerSettings consumer_settings{brokers, group, "loop-outage"};
      consumer_settings.extra = extra;
      common::kafka::KafkaConsumer consumer(consumer_settings, logger, &listener);
      loop.run(consumer, stop_signal);
      finished = true;
    });
  }
  void stop() {
    stop_signal.request_stop();
    if (runner.joinable()) runner.join();
  }
  static consume::LoopSettings settings(const std::string& topic) {
    consume::LoopSettings s;
    s.topic = topic;
    s.batch_max_wait = milliseconds(200);
    return s;
  }

  // In construction order.
  std::string group;
  common::logging::Logger& logger;
  common::metrics::MetricsRegistry registry;
  observe::WorkerMetrics metrics;
  retry::RetryPolicy policy;
  RecordingRouter router;
  store::PgMirrorStore real_store;
  OffsetsOutageStore store;
  consume::BatchProcessor processor;
  consume::ConsumerLoop loop;
  TimedListener listener;
  std::atomic<bool> finished{false};
  common::process::StopSignal stop_signal;
  std::thread runner;
};

/// A scratch database, migrated, and a two-partition topic holding users 0..n0-1
/// on partition 0 and 100..100+n1-1 on partition 1.
struct OutageSetup {
  OutageSetup(int n0, int n1)
      : brokers(test_support::require_env("KAFKA_BROKERS")),
        logger("test", common::logging::Level::kError),
        topics(brokers, 2, 0),
        group(test_support::unique_name("loop-outage")) {
    store::PgMigrator(db.url(), logger).migrate(store::embedded_migrations());
    common::kafka::KafkaProducer producer({brokers}, logger);
    std::vector<common::kafka::OutgoingRecord> records;
    for (int n = 0; n < n0; ++n)
      records.push_back(user_record(topics.name, 0, n));
    for (int n = 100; n < 100 + n1; ++n)
      records.push_back(user_record(topics.name, 1, n));
    produce_all(producer, records);
  }
  std::string brokers;
  worker_test::ScratchDatabase db;
  common::logging::Logger logger;
  worker_test::TopicFamily topics;
  std::string group;
};

}  // namespace

TEST_CASE("a fenced partition is sought back even when the rest of its batch fails",
          "[kafka][postgres]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  worker_test::ScratchDatabase db;
  common::logging::Logger logger("test", common::logging::Level::kError);
  store::PgMigrator(db.url(), logger).migrate(store::embedded_migrations());
  worker_test::TopicFamily topics(brokers, 2, 0);
  std::string group = test_support::unique_name("loop-test");

  // Partition 0: users 0..9; partition 1: users 100..104. All there before the
  // loop starts, so that its first batch holds both partitions.
  common::kafka::KafkaProducer producer({brokers}, logger);
  std::vector<common::kafka::OutgoingRecord> first;
  for (int n = 0; n < 10; ++n)
    first.push_back(user_record(topics.name, 0, n));
  for (int n = 100; n < 105; ++n)
    first.push_back(user_record(topics.name, 1, n));
  produce_all(producer, first);

  common::metrics::MetricsRegistry registry;
  observe::WorkerMetrics metrics(registry.registry());
  retry::RetryPolicy policy(retry::RetryConfig{{}, milliseconds(10), milliseconds(50)});
  RecordingRouter router;
  store::PgMirrorStore real_store(db.url(), group, logger);
  InterferedStore store(real_store, db.url(), group, topics.name);
  auto now_ms = [] {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  consume::BatchProcessor processor(store, router, policy, metrics, logger,
                                    {topics.name, "loop-test"}, now_ms);
  consume::LoopSettings settings;
  settings.topic = topics.name;
  settings.batch_max_wait = milliseconds(500);
  consume::ConsumerLoop loop(settings, store, processor, policy, metrics, logger, now_ms);
  common::process::StopSignal stop;
  std::thread runner([&] {
    common::kafka::KafkaConsumer consumer({brokers, group, "loop-test"}, logger, &loop);
    loop.run(consumer, stop);
  });

  auto users_from = [&](int lo, int hi) {
    return scalar(db.url(),
                  "select count(*) from clerk.users where id in (select 'user_' || n "
                  "from generate_series(" +
                      std::to_string(lo) + ", " + std::to_string(hi) + ") n)");
  };
  // Users 3..9 come from the stored offset 3 onwards; 100..104 from partition 1.
  bool caught_up = wait_until([&] { return users_from(3, 9) == 7 && users_from(100, 104) == 5; },
                              std::chrono::seconds(60));
  // Later records on partition 0 follow them.
  std::vector<common::kafka::OutgoingRecord> later;
  for (int n = 10; n < 13; ++n)
    later.push_back(user_record(topics.name, 0, n));
  produce_all(producer, later);
  bool later_applied = wait_until(
      [&] {
        return scalar(db.url(),
                      "select coalesce(max(next_offset), 0) from "
                      "clerk.consumer_offsets where partition = 0") == 13;
      },
      std::chrono::seconds(60));
  stop.request_stop();
  runner.join();

  CHECK(store.fence_seen);
  CHECK(store.failed);  // the batch did fail after the fence
  CHECK(caught_up);
  CHECK(later_applied);
  CHECK(users_from(3, 12) == 10);
  CHECK(users_from(0, 2) == 0);  // the other consumer's records: not ours to apply
  CHECK(scalar(db.url(), "select count(*) from clerk.applied_events") == 15);
}

TEST_CASE("an assignment waits out a database outage without holding the rebalance callback",
          "[kafka][postgres]") {
  OutageSetup setup(6, 4);
  // Partition 0 was applied up to offset 3 before: users 0..2 are not to come again.
  {
    pqxx::connection c(setup.db.url());
    pqxx::work w(c);
    w.exec_params(
        "insert into clerk.consumer_offsets (consumer_group, topic, partition, next_offset) "
        "values ($1, $2, 0, 3)",
        setup.group, setup.topics.name);
    w.commit();
  }
  // Longer than max.poll.interval.ms and session.timeout.ms below: a callback that
  // waited the outage out would be put out of the group and assigned again.
  OutageMember member(setup.db.url(), setup.group, setup.topics.name,
                      std::chrono::steady_clock::now() + std::chrono::seconds(10), setup.logger);
  member.start(setup.brokers, {{"session.timeout.ms", "6000"},
                               {"heartbeat.interval.ms", "1000"},
                               {"max.poll.interval.ms", "6000"}});

  std::string url = setup.db.url();
  auto users = [&] {
    return scalar(url,
                  "select count(*) from clerk.users where id in (select 'user_' || n from "
                  "generate_series(3, 5) n union all select 'user_' || n from "
                  "generate_series(100, 103) n)");
  };
  bool applied = wait_until([&] { return users() == 7; }, std::chrono::seconds(60));
  // Settle: a member put out of the group would be assigned again within this.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  member.stop();

  CHECK(applied);
  CHECK(member.store.load_calls.load() > 2);  // read, failed, retried from the loop
  CHECK(member.listener.longest_ms.load() < 2000);
  CHECK(member.listener.assigned.load() == 1);
  CHECK(scalar(url, "select count(*) from clerk.users") == 7);  // not users 0..2
  CHECK(scalar(url, "select count(*) from clerk.applied_events") == 7);
  CHECK(scalar(url, "select coalesce(sum(next_offset), 0) from clerk.consumer_offsets") == 10);
}

TEST_CASE("the group rebalances while an assignment waits for the database", "[kafka][postgres]") {
  OutageSetup setup(5, 5);
  // Both members see the database down for the first 20 s. max.poll.interval.ms is
  // librdkafka's default (300 s): a member that held up the rebalance would hold it
  // up for longer than this test runs.
  auto outage_until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  OutageMember first(setup.db.url(), setup.group, setup.topics.name, outage_until, setup.logger);
  OutageMember second(setup.db.url(), setup.group, setup.topics.name, outage_until, setup.logger);
  first.start(setup.brokers);
  bool first_waiting = wait_until(
      [&] { return first.listener.assigned.load() == 1 && first.store.load_calls.load() > 1; },
      std::chrono::seconds(15));
  second.start(setup.brokers);
  // The first member gives up its partitions and both are assigned again, all while
  // the database is still down.
  bool rebalanced = wait_until(
      [&] { return first.listener.assigned.load() == 2 && second.listener.assigned.load() == 1; },
      std::chrono::seconds(12));
  bool during_outage = std::chrono::steady_clock::now() < outage_until;
  std::string url = setup.db.url();
  bool applied = wait_until([&] { return scalar(url, "select count(*) from clerk.users") == 10; },
                            std::chrono::seconds(60));
  first.stop();
  second.stop();

  CHECK(first_waiting);
  CHECK(rebalanced);
  CHECK(during_outage);
  CHECK(first.listener.revoked.load() >= 1);
  CHECK(applied);
  CHECK(scalar(url, "select count(*) from clerk.applied_events") == 10);
  CHECK(scalar(url, "select coalesce(sum(next_offset), 0) from clerk.consumer_offsets") == 10);
}

TEST_CASE("a worker stops promptly while its assignment waits for the database",
          "[kafka][postgres]") {
  OutageSetup setup(0, 0);
  OutageMember member(setup.db.url(), setup.group, setup.topics.name,
                      std::chrono::steady_clock::now() + std::chrono::minutes(5), setup.logger);
  member.start(setup.brokers);
  bool waiting = wait_until(
      [&] { return member.listener.assigned.load() == 1 && member.store.load_calls.load() > 2; },
      std::chrono::seconds(30));
  auto asked = std::chrono::steady_clock::now();
  std::thread stopper([&] { member.stop(); });
  bool stopped = wait_until([&] { return member.finished.load(); }, std::chrono::seconds(20));
  auto took = std::chrono::steady_clock::now() - asked;
  stopper.join();

  CHECK(waiting);
  CHECK(stopped);
  CHECK(took < std::chrono::seconds(10));
  CHECK(scalar(setup.db.url(), "select count(*) from clerk.consumer_offsets") == 0);
}
