// Faults while events flow: kill -9 of workers, PostgreSQL stopped (fast and
// immediate) for 20 s, the worker's backend terminated mid-batch. Each time the
// final tables equal the model, every consumed record has exactly one audit row
// (nothing lost, nothing applied twice) and nothing reaches the dead-letter topic.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "worker/support/pipeline.hpp"
#include "worker/support/scratch_database.hpp"

using namespace worker_test;
using namespace std::chrono_literals;

namespace {

/// Publishes `history` in chunks at a steady pace on its own thread.
class PacedProducer {
 public:
  PacedProducer(const std::string& brokers, std::string topic, std::vector<HistoryEvent> history,
                std::size_t chunk, std::chrono::milliseconds pause)
      : producer_({brokers}, quiet_logger()) {
    thread_ = std::thread([this, topic = std::move(topic), history = std::move(history), chunk,
                           pause] {
      try {
        for (std::size_t i = 0; i < history.size(); i += chunk) {
          std::vector<HistoryEvent> part(
              history.begin() + static_cast<std::ptrdiff_t>(i),
              history.begin() + static_cast<std::ptrdiff_t>(std::min(history.size(), i + chunk)));
          produce(producer_, topic, part);
          std::this_thread::sleep_for(pause);
        }
      } catch (const std::exception& e) {
        error_ = e.what();
      }
    });
  }
  ~PacedProducer() { join(); }
  std::string join() {
    if (thread_.joinable()) thread_.join();
    return error_;
  }

 private:
  common::kafka::KafkaProducer producer_;
  std::thread thread_;
  std::string error_;
};

/// The checks every fault test ends with.
void check_converged(const std::string& url, const std::string& brokers, const TopicFamily& topic,
                     const std::vector<HistoryEvent>& history) {
  auto total = static_cast<std::int64_t>(history.size());
  bool caught_up = wait_until([&] { return audited(url) >= total; }, 180s);
  INFO("audited " << audited(url) << " of " << total);
  REQUIRE(caught_up);
  // Exactly one audit row per published record: nothing lost, nothing twice.
  CHECK(audited(url) == total);
  std::set<std::string> distinct;
  for (const auto& e : history)
    distinct.insert(e.event_id);
  CHECK(scalar(url, "select count(distinct event_id) from clerk.applied_events") ==
        static_cast<std::int64_t>(distinct.size()));
  CHECK(scalar(url,
               "select count(*) from (select event_id from clerk.applied_events where "
               "outcome in ('applied', 'stale') group by 1 having count(*) > 1) x") == 0);
  CHECK(scalar(url, "select count(*) from clerk.applied_events where outcome = 'duplicate'") ==
        total - static_cast<std::int64_t>(distinct.size()));
  CHECK(scalar(url,
               "select count(*) from clerk.applied_events where outcome not in "
               "('applied', 'stale', 'duplicate')") == 0);
  auto diff = diff_tables(expected_tables(history), actual_tables(url));
  for (const auto& line : diff)
    UNSCOPED_INFO(line);
  CHECK(diff.empty());
  CHECK(read_topic(brokers, topic.name + ".dlq", topic.partitions).empty());
}

std::vector<HistoryEvent> crash_history(std::uint64_t seed, const std::string& prefix) {
  HistoryOptions options;
  options.users = 800;
  options.organizations = 120;
  options.memberships = 1200;
  options.id_prefix = prefix;
  options.reorder_window = 40;
  return make_history(seed, options);
}

std::string read_env_value(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  }
  return "";
}

/// A PostgreSQL cluster of the test's own (ops/postgres/start in a temp dir), so
/// stopping it cannot disturb the shared one.
class PrivateCluster {
 public:
  PrivateCluster() : dir_("/tmp/" + test_support::unique_name("cmw-pg")) {
    std::filesystem::create_directories(dir_);
    if (script("start") != 0) throw std::runtime_error("ops/postgres/start failed, see " + log_);
    url_ = read_env_value(dir_ + "/env", "DATABASE_URL");
  }
  ~PrivateCluster() {
    script("stop", {"--mode", "immediate"});
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  int script(const std::string& action, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{"/usr/bin/env", "-u", "DATABASE_URL",
                                  test_support::source_path("ops/postgres/" + action), dir_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test_support::run(logged(argv, {}, log_)).code;
  }
  const std::string& url() const { return url_; }

 private:
  std::string dir_;
  std::string log_ = log_file("private-pg");
  std::string url_;
};

}  // namespace

TEST_CASE("kill -9 of workers at random moments loses nothing and applies nothing twice", "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  TopicFamily topic(brokers, 4, 2);
  ScratchDatabase db;
  auto history = crash_history(77, "k_");
  std::string group = test_support::unique_name("group");
  auto env = worker_env(brokers, topic.name, db.url(), group);
  env["WORKER_BATCH_MAX_EVENTS"] = "200";  // many transactions to interrupt
  // One static member (its restart takes its partitions back at once) and one
  // dynamic member (its restart goes through a rebalance).
  auto static_env = env;
  static_env["WORKER_GROUP_INSTANCE_ID"] = "kill-test-a";
  WorkerProcess a(static_env, log_file("kill-a")), b(env, log_file("kill-b"));
  // Paced so that production outlasts the ten kills below (about 25 s): workers
  // that keep up only apply while events still arrive.
  PacedProducer producer(brokers, topic.name, history, 100, 350ms);
  REQUIRE(wait_until([&] { return audited(db.url()) > 0; }, 60s));

  std::mt19937_64 rng(4242);
  int kills_while_applying = 0;
  for (int kill = 0; kill < 10; ++kill) {
    // Each kill lands among committing batches: wait until the workers commit again
    // after the previous restart (a fixed sleep let a slow restart or rebalance use up
    // the window, and the kill then hit idle workers), then kill at a random moment.
    auto before = audited(db.url());
    if (wait_until([&] { return audited(db.url()) > before; }, 30s)) ++kills_while_applying;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
    WorkerProcess& victim = rng() % 2 ? a : b;
    victim.kill9();
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
    victim.start();
  }
  CHECK(producer.join().empty());
  INFO("kills while applying: " << kills_while_applying);
  CHECK(kills_while_applying >= 5);
  check_converged(db.url(), brokers, topic, history);
  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

TEST_CASE("the worker's backend terminated mid-batch: the worker recovers by itself", "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  TopicFamily topic(brokers, 4, 2);
  ScratchDatabase db;
  auto history = crash_history(91, "t_");
  auto env = worker_env(brokers, topic.name, db.url(), test_support::unique_name("group"));
  env["WORKER_BATCH_MAX_EVENTS"] = "300";
  WorkerProcess a(env, log_file("terminate-a")), b(env, log_file("terminate-b"));
  PacedProducer producer(brokers, topic.name, history, 250, 100ms);
  std::int64_t terminated = 0;
  {
    pqxx::connection admin(test_support::require_env("DATABASE_URL"));
    for (int i = 0; i < 25; ++i) {
      std::this_thread::sleep_for(200ms);
      pqxx::nontransaction tx(admin);
      // Busy backends first: mid-statement or inside the batch's transaction.
      auto r = tx.exec_params(
          "select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity "
          "where datname = $1 and application_name = 'clerk-mirror worker' "
          "and (state <> 'idle' or $2)",
          db.name(), i % 3 == 0);
      terminated += r[0][0].as<std::int64_t>();
    }
  }
  CHECK(terminated >= 10);
  CHECK(producer.join().empty());
  check_converged(db.url(), brokers, topic, history);
  CHECK(a.running());
  CHECK(b.running());
  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

TEST_CASE("PostgreSQL stopped (fast, then immediate) for 20 s: the worker recovers by itself",
          "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  PrivateCluster cluster;
  TopicFamily topic(brokers, 2, 2);
  auto history = crash_history(123, "o_");
  auto env = worker_env(brokers, topic.name, cluster.url(), test_support::unique_name("group"));
  env["WORKER_BATCH_MAX_EVENTS"] = "300";
  WorkerProcess worker(env, log_file("outage"));
  PacedProducer producer(brokers, topic.name, history, 200, 250ms);

  REQUIRE(wait_until([&] { return ops_port(worker.log_path()) > 0; }, 60s));
  std::string readyz =
      "http://127.0.0.1:" + std::to_string(ops_port(worker.log_path())) + "/readyz";
  for (const char* mode : {"fast", "immediate"}) {
    INFO("mode " << mode);
    REQUIRE(wait_until([&] { return audited(cluster.url()) > 0; }, 60s));
    std::this_thread::sleep_for(1s);
    REQUIRE(cluster.script("stop", {"--mode", mode}) == 0);
    std::this_thread::sleep_for(2s);
    CHECK(http_get(readyz).first == 503);  // the database is unreachable, and says so
    std::this_thread::sleep_for(18s);
    CHECK(worker.running());
    REQUIRE(cluster.script("start") == 0);
    CHECK(wait_until([&] { return http_get(readyz).first == 200; }, 30s));
  }
  CHECK(producer.join().empty());
  check_converged(cluster.url(), brokers, topic, history);
  CHECK(worker.running());
  CHECK(worker.stop() == 0);
  // It waited, it did not skip: in-place retries were counted, and the log says so.
  std::ifstream log(worker.log_path());
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(text.find("retrying in place") != std::string::npos);
}
