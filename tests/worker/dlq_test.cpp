// `clerk-mirror dlq list|replay` against dead letters a real worker wrote: an
// injected fault dead-letters two events, `list` shows them with their failure
// headers, a dry run publishes nothing, a replay before the fix comes back, and
// after the fault is switched off `replay` republishes the original records and
// the worker applies them; a second replay changes nothing.
#include <catch2/catch.hpp>
#include <sstream>

#include "worker/support/pipeline.hpp"
#include "worker/support/scratch_database.hpp"

using namespace worker_test;

namespace {

struct Captured : test_support::Finished {
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      result.push_back(line);
    return result;
  }
};

// Runs `clerk-mirror <args>` with `env` set and `unset` removed from the
// inherited environment (by env -u); stdout and stderr are captured apart.
Captured clerk_mirror(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env,
                      const std::vector<std::string>& unset = {}) {
  std::vector<std::string> argv;
  if (!unset.empty()) argv.push_back("/usr/bin/env");
  for (const auto& name : unset) {
    argv.push_back("-u");
    argv.push_back(name);
  }
  argv.push_back(test_support::binary("clerk-mirror"));
  argv.insert(argv.end(), args.begin(), args.end());
  return {test_support::run(std::move(argv), env)};
}

// Sum of the partitions' high watermarks: grows by one per record written.
std::int64_t end_offsets(const std::string& brokers, const std::string& topic) {
  common::kafka::KafkaAdmin admin(brokers, quiet_logger());
  std::int64_t sum = 0;
  for (const auto& m : admin.watermarks(topic, std::chrono::seconds(10)))
    sum += m.high;
  return sum;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A fault the event causes while the switch is on (P0001: the event's own
// fault, so it climbs the retry topics to the dead-letter topic).
void install_fault(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::work tx(conn);
  tx.exec(R"sql(
    create table public.fault_switch (on_ boolean);
    insert into public.fault_switch values (true);
    create function public.flaky() returns trigger language plpgsql as $$
    begin
      if new.first_name like 'flaky%' and exists (select 1 from public.fault_switch) then
        raise exception 'injected fault for %', new.id;
      end if;
      return new;
    end $$;
    create trigger flaky before insert or update on clerk.users
      for each row execute function public.flaky();)sql");
  tx.commit();
}

}  // namespace

TEST_CASE("dead letters are listed with their reasons and, after the fix, replayed and applied",
          "[e2e][kafka][postgres]") {
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  TopicFamily topic(brokers, 2, 2);
  const std::string dlq = topic.name + ".dlq";
  ScratchDatabase db;
  REQUIRE(test_support::run({test_support::binary("clerk-mirror"), "migrate"},
                            {{"DATABASE_URL", db.url()}})
              .code == 0);
  install_fault(db.url());
  const std::map<std::string, std::string> cli{{"KAFKA_BROKERS", brokers},
                                               {"KAFKA_TOPIC", topic.name}};
  auto count = [&](const std::string& sql) { return scalar(db.url(), sql); };

  // An empty dead-letter topic lists nothing and is not an error.
  auto empty = clerk_mirror({"dlq", "list"}, cli);
  CHECK(empty.code == 0);
  CHECK(empty.out.empty());
  CHECK(contains(empty.err, "0 listed of 0 dead letters in " + dlq + " (2 partitions)"));

  auto env = worker_env(brokers, topic.name, db.url(), test_support::unique_name("group"));
  env["WORKER_NAME"] = "dlq-test-worker";
  WorkerProcess worker(env, log_file("dlq"));
  const std::int64_t t = 1700000000000;
  const std::vector<HistoryEvent> events{user_event("user_a", "msg_a", t, "flaky a"),
                                         user_event("user_b", "msg_b", t, "flaky b"),
                                         user_event("user_ok", "msg_ok", t, "fine")};
  common::kafka::KafkaProducer producer({brokers}, quiet_logger());
  produce(producer, topic.name, events);
  REQUIRE(wait_until(
      [&] {
        return count(
                   "select count(*) from clerk.applied_events where outcome = "
                   "'dead_lettered'") == 2;
      },
      std::chrono::seconds(60)));
  CHECK(count("select count(*) from clerk.users") == 1);
  const std::int64_t dlq_end = end_offsets(brokers, dlq);
  CHECK(dlq_end == 2);

  // list: one JSON line per dead letter, with its failure headers.
  auto listed = clerk_mirror({"dlq", "list"}, cli);
  CHECK(listed.code == 0);
  auto lines = listed.lines();
  REQUIRE(lines.size() == 2);
  CHECK(contains(listed.err, "2 listed of 2 dead letters in " + dlq));
  for (const std::string who : {"a", "b"}) {
    INFO(who);
    auto line = contains(lines[0], "\"event_id\":\"msg_" + who + "\"") ? lines[0] : lines[1];
    CHECK(line.front() == '{');
    CHECK(line.back() == '}');
    for (const std::string& expected :
         {"\"event_id\":\"msg_" + who + "\"", std::string("\"event_type\":\"user.updated\""),
          "\"event_timestamp\":" + std::to_string(t), "\"key\":\"user_" + who + "\"",
          std::string("\"source\":\"webhook\""), std::string("\"error_class\":\"database\""),
          std::string("\"error_message\":\"P0001"), "injected fault for user_" + who,
          "\"original_topic\":\"" + topic.name + "\"", std::string("\"original_partition\":"),
          std::string("\"original_offset\":"), std::string("\"attempt\":3"),
          std::string("\"worker\":\"dlq-test-worker\""), std::string("\"dlq_offset\":")}) {
      INFO(expected);
      CHECK(contains(line, expected));
    }
  }
  auto limited = clerk_mirror({"dlq", "list", "--limit", "1"}, cli);
  CHECK(limited.code == 0);
  CHECK(limited.lines().size() == 1);
  CHECK(contains(limited.err, "1 listed of 2 dead letters"));

  // A dry run says what it would replay and publishes nothing.
  const std::int64_t main_end = end_offsets(brokers, topic.name);
  CHECK(main_end == 3);
  auto dry = clerk_mirror({"dlq", "replay", "--dry-run"}, cli);
  CHECK(dry.code == 0);
  CHECK(dry.lines().size() == 2);
  CHECK(contains(dry.err, "would replay 2 dead letters"));
  CHECK(end_offsets(brokers, topic.name) == main_end);

  // An event id that is not a dead letter: refused, nothing published.
  auto unknown = clerk_mirror({"dlq", "replay", "--event-id", "msg_a", "--event-id=msg_nope"}, cli);
  CHECK(unknown.code == 3);
  CHECK(contains(unknown.err, "msg_nope"));
  CHECK(end_offsets(brokers, topic.name) == main_end);

  // Replayed before the fix, an event fails again and comes back to the
  // dead-letter topic, now as a second dead letter of the same event.
  auto early = clerk_mirror({"dlq", "replay", "--event-id", "msg_b"}, cli);
  CHECK(early.code == 0);
  CHECK(end_offsets(brokers, topic.name) == main_end + 1);
  REQUIRE(wait_until(
      [&] {
        return count(
                   "select count(*) from clerk.applied_events where outcome = "
                   "'dead_lettered'") == 3;
      },
      std::chrono::seconds(60)));
  CHECK(end_offsets(brokers, dlq) == dlq_end + 1);
  CHECK(count("select count(*) from clerk.users where id = 'user_b'") == 0);

  // The fix. Then replay one event: it lands.
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec("delete from public.fault_switch");
    tx.commit();
  }
  auto one = clerk_mirror({"dlq", "replay", "--event-id", "msg_a"}, cli);
  CHECK(one.code == 0);
  REQUIRE(one.lines().size() == 1);
  CHECK(contains(one.lines()[0], "\"event_id\":\"msg_a\""));
  CHECK(contains(one.err, "replayed 1 dead letter from " + dlq + " to " + topic.name));
  CHECK(end_offsets(brokers, topic.name) == main_end + 2);
  REQUIRE(wait_until(
      [&] {
        return count(
                   "select count(*) from clerk.users where id = 'user_a' and first_name = "
                   "'flaky a' and version_event_id = 'msg_a' and deleted_at is null") == 1;
      },
      std::chrono::seconds(30)));
  CHECK(count("select count(*) from clerk.users where id = 'user_b'") == 0);

  // On the main topic the replay is the original record: key, value, contract headers.
  std::vector<common::kafka::ConsumedRecord> copies;
  for (auto& r : read_topic(brokers, topic.name, topic.partitions)) {
    if (header(r, "event-id") == "msg_a") copies.push_back(std::move(r));
  }
  REQUIRE(copies.size() == 2);
  for (const auto& copy : copies) {
    CHECK(copy.key == std::optional<std::string>("user_a"));
    CHECK(copy.value == events[0].json);
    std::vector<std::string> names;
    for (const auto& h : copy.headers)
      names.push_back(h.name);
    CHECK(names == std::vector<std::string>{"event-id", "event-type", "event-timestamp", "source",
                                            "received-at"});
    CHECK(header(copy, "event-type") == "user.updated");
    CHECK(header(copy, "event-timestamp") == std::to_string(t));
    CHECK(header(copy, "source") == "webhook");
    CHECK(header(copy, "received-at") == std::to_string(t));
  }

  // Replaying everything, msg_a again included, is harmless: msg_b lands once
  // (its two dead letters are one event), msg_a is a duplicate, nothing is
  // dead-lettered again.
  auto all = clerk_mirror({"dlq", "replay"}, cli);
  CHECK(all.code == 0);
  CHECK(all.lines().size() == 2);
  CHECK(contains(all.err, "replayed 2 dead letters (skipped 1 repeat of the same events)"));
  CHECK(end_offsets(brokers, topic.name) == main_end + 4);
  REQUIRE(wait_until(
      [&] {
        return count(
                   "select count(*) from clerk.users where id = 'user_b' and "
                   "version_event_id = 'msg_b'") == 1 &&
               count(
                   "select count(*) from clerk.applied_events where event_id = 'msg_a' and "
                   "outcome = 'duplicate'") == 1;
      },
      std::chrono::seconds(30)));
  CHECK(count("select count(*) from clerk.applied_events where event_id = 'msg_a' and "
              "outcome = 'applied'") == 1);
  CHECK(count("select count(*) from clerk.users where first_name like 'flaky%'") == 2);
  CHECK(count("select count(*) from clerk.applied_events where outcome = 'dead_lettered'") == 3);
  CHECK(end_offsets(brokers, dlq) == dlq_end + 1);
  CHECK(worker.stop() == 0);
}

TEST_CASE("dlq refuses bad flags and values, one line per problem, and documents itself", "[e2e]") {
  const std::map<std::string, std::string> cli{{"KAFKA_BROKERS", "127.0.0.1:9"},
                                               {"KAFKA_TOPIC", "clerk.events"}};
  auto help = clerk_mirror({"dlq", "--help"}, cli);
  CHECK(help.code == 0);
  for (const char* expected :
       {"dlq list [--limit N]", "dlq replay [--event-id ID]... [--dry-run]", "KAFKA_BROKERS",
        "KAFKA_TOPIC", "DLQ_TIMEOUT_MS", "duplicate", "version guard", "acks=all"}) {
    INFO(expected);
    CHECK(contains(help.out, expected));
  }

  auto none = clerk_mirror({"dlq"}, cli);
  CHECK(none.code == 2);
  CHECK(contains(none.err, "missing action: list or replay"));

  auto bad = clerk_mirror({"dlq", "purge", "--limit", "-3", "--event-id", "", "--bogus", "1",
                           "--dlq-timeout-ms", "abc"},
                          cli);
  CHECK(bad.code == 2);
  CHECK(bad.out.empty());
  for (const char* expected :
       {"unknown action 'purge'", "--limit: must be a whole number", "--event-id: is empty",
        "--bogus: unknown option", "DLQ_TIMEOUT_MS must be an integer"}) {
    INFO(expected);
    CHECK(contains(bad.err, expected));
  }
  auto misplaced = clerk_mirror({"dlq", "list", "--dry-run", "--event-id", "x"}, cli);
  CHECK(misplaced.code == 2);
  CHECK(contains(misplaced.err, "--dry-run: only for 'dlq replay'"));
  CHECK(contains(misplaced.err, "--event-id: only for 'dlq replay'"));
  auto limit_on_replay = clerk_mirror({"dlq", "replay", "--limit", "2"}, cli);
  CHECK(limit_on_replay.code == 2);
  CHECK(contains(limit_on_replay.err, "--limit: only for 'dlq list'"));

  auto no_brokers = clerk_mirror({"dlq", "list"}, {}, {"KAFKA_BROKERS"});
  CHECK(no_brokers.code == 2);
  CHECK(contains(no_brokers.err, "KAFKA_BROKERS is not set"));
  auto flag_wins = clerk_mirror({"dlq", "list", "--kafka-brokers", "not a broker"}, cli);
  CHECK(flag_wins.code == 2);
  CHECK(contains(flag_wins.err, "KAFKA_BROKERS must be a comma-separated list"));
}
