// `clerk-mirror rebuild` between the real broker and real databases: the rebuilt
// tables equal the live ones, it stops by itself once caught up, it refuses a
// database that already holds rows, and an interrupted rebuild resumes without
// applying anything twice.
#include <catch2/catch.hpp>
#include <csignal>

#include "worker/support/pipeline.hpp"
#include "worker/support/scratch_database.hpp"

using namespace worker_test;

namespace {

/// Runs `clerk-mirror rebuild` to its end; {exit code, everything it printed}.
std::pair<int, std::string> rebuild(std::map<std::string, std::string> env,
                                    const std::string& log_name) {
  auto finished = test_support::run(
      logged({test_support::binary("clerk-mirror"), "rebuild"}, std::move(env), log_file(log_name)),
      std::chrono::seconds(120));
  return {finished.code, finished.out};
}

std::map<std::string, std::string> rebuild_env(const std::string& brokers, const std::string& topic,
                                               const std::string& database_url) {
  auto env = worker_env(brokers, topic, database_url, "unused");
  env.erase("WORKER_GROUP_ID");  // the rebuild picks a fresh group of its own
  return env;
}

}  // namespace

TEST_CASE("rebuild replays the log into an empty database and stops once caught up", "[e2e]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  TopicFamily topic(brokers, 3, 2);
  HistoryOptions options;
  options.users = 120;
  options.organizations = 25;
  options.memberships = 200;
  options.id_prefix = "rb_";
  auto history = make_history(20241105, options);
  common::kafka::KafkaProducer producer({brokers}, quiet_logger());
  produce(producer, topic.name, history);
  auto total = static_cast<std::int64_t>(history.size());

  ScratchDatabase live;
  {
    WorkerProcess worker(
        worker_env(brokers, topic.name, live.url(), test_support::unique_name("g")),
        log_file("rebuild-live"));
    REQUIRE(wait_until([&] { return audited(live.url()) >= total; }, std::chrono::seconds(90)));
    CHECK(worker.stop() == 0);
  }

  SECTION("into an empty database: the same tables, a summary, exit 0 without a signal") {
    ScratchDatabase rebuilt;
    auto [code, output] = rebuild(rebuild_env(brokers, topic.name, rebuilt.url()), "rebuild");
    INFO(output);
    REQUIRE(code == 0);
    CHECK(tables_checksum(rebuilt.url()) == tables_checksum(live.url()));
    CHECK(audited(rebuilt.url()) == total);
    CHECK(output.find("{\"group\":\"clerk-mirror-rebuild-") != std::string::npos);
    CHECK(output.find("\"tables\":{") != std::string::npos);

    // Run again into the database it just filled: refused, nothing changes.
    auto [again, refusal] = rebuild(rebuild_env(brokers, topic.name, rebuilt.url()), "rebuild-2");
    INFO(refusal);
    CHECK(again == 3);
    CHECK(refusal.find("already holds mirrored rows") != std::string::npos);
    CHECK(audited(rebuilt.url()) == total);
  }

  SECTION("interrupted, then run again with the same group: resumes, applies nothing twice") {
    ScratchDatabase rebuilt;
    auto env = rebuild_env(brokers, topic.name, rebuilt.url());
    env["WORKER_GROUP_ID"] = test_support::unique_name("rebuild");
    env["WORKER_BATCH_MAX_EVENTS"] = "10";  // many small transactions: room to interrupt
    std::string log = log_file("rebuild-interrupted");
    {
      test_support::ChildProcess child(
          logged({test_support::binary("clerk-mirror"), "rebuild"}, env, log));
      REQUIRE(wait_until([&] { return audited(rebuilt.url()) > 0; }, std::chrono::seconds(60)));
      child.signal(SIGTERM);
      REQUIRE(child.wait_for(std::chrono::seconds(30)));
      int code = child.wait();
      INFO(test_support::read_file(log));
      // Exit 1 with a resume hint, unless it happened to finish first.
      if (audited(rebuilt.url()) < total) {
        CHECK(code == 1);
        CHECK(test_support::read_file(log).find("to resume") != std::string::npos);
      }
    }
    auto [code, output] = rebuild(env, "rebuild-resumed");
    INFO(output);
    REQUIRE(code == 0);
    CHECK(audited(rebuilt.url()) == total);
    CHECK(scalar(rebuilt.url(),
                 "select count(*) from (select event_id from clerk.applied_events "
                 "where outcome = 'applied' group by 1 having count(*) > 1) x") == 0);
    CHECK(tables_checksum(rebuilt.url()) == tables_checksum(live.url()));
  }
}

TEST_CASE("rebuild: bad configuration exits 2 naming the variable", "[e2e]") {
  auto [code, output] = rebuild({{"KAFKA_BROKERS", "not-a-host-port"},
                                 {"DATABASE_URL", "nonsense"},
                                 {"REBUILD_ALLOW_NONEMPTY", "perhaps"}},
                                "rebuild-bad");
  INFO(output);
  CHECK(code == 2);
  CHECK(output.find("KAFKA_BROKERS") != std::string::npos);
  CHECK(output.find("DATABASE_URL") != std::string::npos);
  CHECK(output.find("REBUILD_ALLOW_NONEMPTY") != std::string::npos);
}
