// clerk-mirror worker processes between the real broker and the real database:
// convergence, replay, poison messages through the retry topics to the
// dead-letter topic, and a retried older version losing to a newer one.
#include "worker/support/pipeline.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "worker/support/scratch_database.hpp"

using namespace worker_test;
using namespace std::chrono_literals;

TEST_CASE("two workers converge to the model; a replay into an empty database matches", "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  TopicFamily topic(brokers, 4, 2);
  ScratchDatabase live;
  HistoryOptions options;
  options.users = 150;
  options.organizations = 30;
  options.memberships = 250;
  options.id_prefix = "p_";
  auto history = make_history(20240601, options);

  common::kafka::KafkaProducer producer({brokers}, quiet_logger());
  // Half before the workers start, half while they run.
  std::vector<HistoryEvent> first(history.begin(), history.begin() + history.size() / 2);
  std::vector<HistoryEvent> second(history.begin() + history.size() / 2, history.end());
  produce(producer, topic.name, first);
  std::string group = test_support::unique_name("group");
  WorkerProcess a(worker_env(brokers, topic.name, live.url(), group), log_file("pipeline-a"));
  WorkerProcess b(worker_env(brokers, topic.name, live.url(), group), log_file("pipeline-b"));
  produce(producer, topic.name, second);

  auto total = static_cast<std::int64_t>(history.size());
  REQUIRE(wait_until([&] { return audited(live.url()) >= total; }, std::chrono::seconds(90)));
  CHECK(audited(live.url()) == total);
  auto diff = diff_tables(expected_tables(history), actual_tables(live.url()));
  for (const auto& line : diff)
    UNSCOPED_INFO(line);
  CHECK(diff.empty());
  CHECK(scalar(live.url(),
               "select count(*) from (select event_id from clerk.applied_events "
               "where outcome = 'applied' group by 1 having count(*) > 1) x") == 0);
  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
  CHECK(read_topic(brokers, topic.name + ".dlq", topic.partitions).empty());

  // Replay: a fresh group from the beginning into an empty database.
  ScratchDatabase replay;
  WorkerProcess r(worker_env(brokers, topic.name, replay.url(), test_support::unique_name("g")),
                  log_file("pipeline-replay"));
  REQUIRE(wait_until([&] { return audited(replay.url()) >= total; }, std::chrono::seconds(90)));
  CHECK(r.stop() == 0);
  CHECK(tables_checksum(replay.url()) == tables_checksum(live.url()));
}

TEST_CASE(
    "a poison message climbs the retry topics to the dead-letter topic while its "
    "partition keeps flowing",
    "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  TopicFamily topic(brokers, 1, 2);  // one partition: the poison and the rest share it
  ScratchDatabase db;
  common::kafka::KafkaProducer producer({brokers}, quiet_logger());
  auto env = worker_env(brokers, topic.name, db.url(), test_support::unique_name("group"));
  env["WORKER_RETRY_DELAYS_MS"] = "1500,1500";
  env["WORKER_NAME"] = "poison-test-worker";
  WorkerProcess worker(env, log_file("poison"));

  const std::int64_t t = 1700000000000;
  auto poison = user_event("user_poison", "msg_poison", t, "poison");
  // jsonb refuses \u0000 (SQLSTATE 22P05): this event fails on its own, every time.
  poison.json.replace(poison.json.find("\"role\":\"member\""), 15, "\"role\":\"\\u0000\"");
  std::vector<HistoryEvent> events{poison};
  for (int i = 0; i < 20; ++i) {
    events.push_back(
        user_event("user_" + std::to_string(i), "msg_ok_" + std::to_string(i), t + i, "fine"));
  }
  auto published_at = std::chrono::steady_clock::now();
  produce(producer, topic.name, events);
  // The events behind the poison apply long before it exhausts its retries (>= 3 s).
  REQUIRE(wait_until([&] { return scalar(db.url(), "select count(*) from clerk.users") == 20; },
                     std::chrono::seconds(30)));
  CHECK(std::chrono::steady_clock::now() - published_at < std::chrono::seconds(15));
  CHECK(scalar(db.url(),
               "select count(*) from clerk.applied_events where "
               "outcome = 'dead_lettered'") == 0);

  REQUIRE(wait_until(
      [&] {
        return scalar(db.url(),
                      "select count(*) from clerk.applied_events where "
                      "outcome = 'dead_lettered'") == 1;
      },
      std::chrono::seconds(30)));
  auto dead = read_topic(brokers, topic.name + ".dlq", 1);
  REQUIRE(dead.size() == 1);
  const auto& d = dead[0];
  CHECK(d.value == poison.json);
  CHECK(d.key == std::optional<std::string>("user_poison"));
  CHECK(header(d, "event-id") == "msg_poison");
  CHECK(header(d, "error-class") == "database");
  CHECK(header(d, "error-message").rfind("22P05", 0) == 0);
  CHECK(header(d, "original-topic") == topic.name);
  CHECK(header(d, "original-partition") == "0");
  CHECK(header(d, "original-offset") == "0");
  CHECK(header(d, "original-timestamp") != "<none>");
  CHECK(header(d, "attempt") == "3");
  CHECK(header(d, "worker") == "poison-test-worker");
  // The way there, in the audit trail: main topic, retry 1, retry 2.
  CHECK(scalar(db.url(),
               "select count(*) from clerk.applied_events where event_id = "
               "'msg_poison' and outcome = 'retried'") == 2);
  // The ops endpoints tell the same story.
  int port = ops_port(worker.log_path());
  REQUIRE(port > 0);
  std::string ops = "http://127.0.0.1:" + std::to_string(port);
  CHECK(http_get(ops + "/healthz").first == 200);
  auto ready = http_get(ops + "/readyz");
  CHECK(ready.first == 200);
  CHECK(ready.second == R"({"database":true,"broker":true})");
  auto metrics = http_get(ops + "/metrics").second;
  for (const char* expected :
       {"clerk_mirror_worker_events_total{outcome=\"applied\",type=\"user.updated\"} 20",
        "clerk_mirror_worker_events_total{outcome=\"retried\",type=\"user.updated\"} 2",
        "clerk_mirror_worker_events_total{outcome=\"dead_lettered\",type=\"user.updated\"} 1",
        "clerk_mirror_worker_retry_published_total{level=\"2\"} 1",
        "clerk_mirror_worker_dead_letters_total{error_class=\"database\"} 1",
        "clerk_mirror_worker_batch_size_events_count", "clerk_mirror_worker_apply_duration_seconds",
        "clerk_mirror_worker_end_to_end_delay_seconds_bucket",
        "clerk_mirror_worker_consumer_lag_messages{", "clerk_mirror_worker_ready 1"}) {
    INFO(expected);
    CHECK(metrics.find(expected) != std::string::npos);
  }
  auto retries = read_topic(brokers, topic.name + ".retry.1", 1);
  REQUIRE(retries.size() == 1);
  CHECK(header(retries[0], "attempt") == "1");
  CHECK(header(retries[0], "not-before") != "<none>");
  CHECK(worker.stop() == 0);
}

TEST_CASE("a retried older version loses to a newer one applied meanwhile", "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  TopicFamily topic(brokers, 2, 2);
  ScratchDatabase db;
  REQUIRE(test_support::run({test_support::binary("clerk-mirror"), "migrate"},
                            {{"DATABASE_URL", db.url()}})
              .code == 0);
  {
    // A fault that the event causes while a switch is on (P0001: not transient).
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec(R"sql(
      create table public.fault_switch (on_ boolean);
      insert into public.fault_switch values (true);
      create function public.flaky() returns trigger language plpgsql as $$
      begin
        if new.first_name = 'flaky' and exists (select 1 from public.fault_switch) then
          raise exception 'injected fault for %', new.id;
        end if;
        return new;
      end $$;
      create trigger flaky before insert or update on clerk.users
        for each row execute function public.flaky();)sql");
    tx.commit();
  }
  common::kafka::KafkaProducer producer({brokers}, quiet_logger());
  auto env = worker_env(brokers, topic.name, db.url(), test_support::unique_name("group"));
  env["WORKER_RETRY_DELAYS_MS"] = "2000,2000";
  WorkerProcess worker(env, log_file("flaky"));
  const std::int64_t t = 1700000000000;
  produce(producer, topic.name, {user_event("user_1", "msg_old", t, "flaky")});
  REQUIRE(wait_until(
      [&] {
        return scalar(db.url(),
                      "select count(*) from clerk.applied_events where event_id = "
                      "'msg_old' and outcome = 'retried'") >= 1;
      },
      std::chrono::seconds(30)));
  produce(producer, topic.name, {user_event("user_1", "msg_new", t + 1000, "newer")});
  REQUIRE(wait_until(
      [&] {
        return scalar(db.url(), "select count(*) from clerk.users where first_name = 'newer'") == 1;
      },
      std::chrono::seconds(30)));
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec("delete from public.fault_switch");
    tx.commit();
  }
  REQUIRE(wait_until(
      [&] {
        return scalar(db.url(),
                      "select count(*) from clerk.applied_events where event_id = "
                      "'msg_old' and outcome = 'stale'") == 1;
      },
      std::chrono::seconds(30)));
  CHECK(scalar(db.url(),
               "select count(*) from clerk.users where first_name = 'newer' and "
               "version_event_id = 'msg_new'") == 1);
  CHECK(scalar(db.url(),
               "select count(*) from clerk.applied_events where outcome = "
               "'dead_lettered'") == 0);
  CHECK(worker.stop() == 0);
}

TEST_CASE("records left in a retry topic beyond WORKER_RETRY_DELAYS_MS are still applied",
          "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  TopicFamily topic(brokers, 2, 3);  // an earlier configuration had three levels
  ScratchDatabase db;
  // A copy waiting in the third retry topic, due now, as a worker published it.
  auto e = user_event("user_r3", "msg_r3", 1700000000000, "third");
  common::kafka::OutgoingRecord copy{topic.name + ".retry.3",
                                     e.key,
                                     e.json,
                                     {{"event-id", e.event_id},
                                      {"event-type", e.type},
                                      {"event-timestamp", std::to_string(e.timestamp)},
                                      {"source", "webhook"},
                                      {"attempt", "3"},
                                      {"not-before", "0"},
                                      {"original-topic", topic.name},
                                      {"original-partition", "0"},
                                      {"original-offset", "0"}},
                                     {},
                                     0};
  common::kafka::KafkaProducer producer({brokers}, quiet_logger());
  REQUIRE(producer.produce_sync(copy).persisted);
  // Now configured with one level.
  auto env = worker_env(brokers, topic.name, db.url(), test_support::unique_name("group"));
  env["WORKER_RETRY_DELAYS_MS"] = "300";
  WorkerProcess worker(env, log_file("retry-levels"));
  CHECK(wait_until(
      [&] {
        return scalar(db.url(),
                      "select count(*) from clerk.users where id = 'user_r3' and "
                      "first_name = 'third'") == 1;
      },
      std::chrono::seconds(30)));
  CHECK(worker.stop() == 0);
  std::ifstream log(worker.log_path());
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("consuming retry topics beyond WORKER_RETRY_DELAYS_MS"));
}

TEST_CASE("/healthz and /metrics answer while /readyz waits for an unreachable database", "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  // A "database" that takes connections into its backlog and never answers: every
  // connection attempt waits for its connect_timeout (2 s for the readiness check).
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(silent >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(silent, 128) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  std::string url =
      "postgresql://postgres@127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/clerk";

  TopicFamily topic(brokers, 1, 0);
  WorkerProcess worker(worker_env(brokers, topic.name, url, test_support::unique_name("group")),
                       log_file("silent-db"));
  REQUIRE(wait_until([&] { return ops_port(worker.log_path()) > 0; }, 30s));
  std::string ops = "http://127.0.0.1:" + std::to_string(ops_port(worker.log_path()));

  std::pair<long, std::string> ready;
  std::chrono::steady_clock::duration ready_took{};
  std::thread readiness([&] {
    auto started = std::chrono::steady_clock::now();
    ready = http_get(ops + "/readyz");
    ready_took = std::chrono::steady_clock::now() - started;
  });
  std::this_thread::sleep_for(300ms);  // /readyz is now waiting for the database
  auto started = std::chrono::steady_clock::now();
  auto health = http_get(ops + "/healthz");
  auto metrics = http_get(ops + "/metrics");
  auto took = std::chrono::steady_clock::now() - started;
  readiness.join();
  bool still_running = worker.running();
  worker.stop();
  ::close(silent);

  CHECK(health.first == 200);
  CHECK(metrics.first == 200);
  CHECK(took < 1s);        // not behind the readiness check's 2 s connect timeout
  CHECK(ready_took > 1s);  // it did wait for the database
  CHECK(ready.first == 503);
  CHECK(ready.second == R"({"database":false,"broker":true})");
  CHECK(still_running);  // an unreachable database is waited for, not fatal
}
