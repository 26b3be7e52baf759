// BatchProcessor on the real PostgreSQL store, with the broker replaced by a
// recording FailureRouter: version guard, soft deletes and cascades, convergence
// of random histories, isolation of poisonous events, the offset fence.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "common/logging/logger.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "worker/consume/batch_processor.hpp"
#include "worker/consume/failure_router.hpp"
#include "worker/observe/worker_metrics.hpp"
#include "worker/retry/retry_policy.hpp"
#include "worker/store/migration.hpp"
#include "worker/store/pg_array.hpp"
#include "worker/store/pg_migrator.hpp"
#include "worker/store/pg_mirror_store.hpp"
#include "worker/store/store_error.hpp"
#include "worker/support/forwarding_store.hpp"
#include "worker/support/mirror_model.hpp"
#include "worker/support/scratch_database.hpp"

using namespace worker;
using worker_test::HistoryEvent;

namespace {

class RecordingRouter : public consume::FailureRouter {
 public:
  void publish(const std::vector<common::kafka::OutgoingRecord>& records) override {
    if (failures_left > 0 && !records.empty()) {
      --failures_left;
      throw consume::RoutingError("broker unreachable (test)");
    }
    published.insert(published.end(), records.begin(), records.end());
  }
  std::vector<common::kafka::OutgoingRecord> published;
  int failures_left = 0;  ///< publishes of a non-empty batch to refuse first
};

/// One "worker": a store, a processor and an offset counter per partition.
struct Harness {
  explicit Harness(const std::string& url, const std::string& group = "test-group")
      : logger("test", common::logging::Level::kError),
        metrics(registry.registry()),
        policy(retry::RetryConfig{{std::chrono::milliseconds(1000)},
                                  std::chrono::milliseconds(1),
                                  std::chrono::milliseconds(10)}),
        store(url, group, logger),
        processor(store, router, policy, metrics, logger, {"clerk.events", "test-worker"},
                  [] { return std::int64_t{1800000000000}; }) {}

  common::kafka::ConsumedRecord record(const HistoryEvent& e, std::int32_t partition) {
    common::kafka::ConsumedRecord r;
    r.topic = "clerk.events";
    r.partition = partition;
    r.offset = next_offset[partition]++;
    r.key = e.key;
    r.value = e.json;
    r.timestamp_ms = e.timestamp;
    r.headers = {{"event-id", e.event_id},
                 {"event-type", e.type},
                 {"event-timestamp", std::to_string(e.timestamp)},
                 {"source", "webhook"}};
    return r;
  }

  consume::BatchResult apply(const std::vector<HistoryEvent>& events, std::int32_t partition = 0) {
    std::vector<apply::InboundEvent> batch;
    for (const auto& e : events)
      batch.push_back(apply::read_inbound(record(e, partition), decoder));
    fenced.clear();
    return processor.process(batch, fenced);
  }

  common::logging::Logger logger;
  common::metrics::MetricsRegistry registry;
  observe::WorkerMetrics metrics;
  retry::RetryPolicy policy;
  RecordingRouter router;
  store::PgMirrorStore store;
  consume::BatchProcessor processor;
  common::events::EntityDecoder decoder;
  std::map<std::int32_t, std::int64_t> next_offset;
  std::vector<common::kafka::TopicPartition> fenced;  ///< by the last apply()
};

void migrate(const std::string& url) {
  common::logging::Logger logger("test", common::logging::Level::kError);
  store::PgMigrator(url, logger).migrate(store::embedded_migrations());
}

HistoryEvent user_event(const std::string& id, const std::string& event_id, std::int64_t updated,
                        std::int64_t ts, const std::string& name,
                        const std::string& type = "user.updated") {
  HistoryEvent e;
  e.event_id = event_id;
  e.type = type;
  e.entity_id = id;
  e.key = id;
  e.timestamp = ts;
  e.json = worker_test::envelope(type, worker_test::user_data(id, updated, name), ts);
  return e;
}

HistoryEvent delete_event(const std::string& type, const std::string& object, const std::string& id,
                          const std::string& event_id, std::int64_t ts) {
  HistoryEvent e;
  e.event_id = event_id;
  e.type = type;
  e.entity_id = id;
  e.key = id;
  e.timestamp = ts;
  e.json = worker_test::envelope(type, worker_test::deleted_data(id, object), ts);
  return e;
}

HistoryEvent membership_event(const std::string& id, const std::string& org,
                              const std::string& user, const std::string& event_id,
                              std::int64_t updated, std::int64_t ts, const std::string& role,
                              const std::string& type = "organizationMembership.updated") {
  HistoryEvent e;
  e.event_id = event_id;
  e.type = type;
  e.entity_id = id;
  e.key = org;
  e.timestamp = ts;
  e.json =
      worker_test::envelope(type, worker_test::membership_data(id, org, user, updated, role), ts);
  return e;
}

pqxx::row one(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  return tx.exec1(sql);
}

constexpr std::int64_t T = 1700000000000;

}  // namespace

TEST_CASE("binary array parameters arrive intact", "[postgres]") {
  worker_test::ScratchDatabase db;
  store::PgArray texts(store::PgElement::kText);
  std::vector<std::string> values{"plain", "quote \" backslash \\ {brace}, comma", "", "NULL",
                                  "caf\xc3\xa9 \xe2\x9c\x93"};
  for (const auto& v : values)
    texts.add(std::string_view(v));
  texts.add_null();
  std::string bytes = texts.finish();
  pqxx::connection conn(db.url());
  conn.prepare("spread", "select v from unnest($1::text[]) with ordinality as u(v, n) order by n");
  pqxx::nontransaction tx(conn);
  auto rows = tx.exec_prepared("spread", pqxx::binarystring(bytes.data(), bytes.size()));
  REQUIRE(rows.size() == values.size() + 1);
  for (std::size_t i = 0; i < values.size(); ++i)
    CHECK(rows[static_cast<int>(i)][0].as<std::string>() == values[i]);
  CHECK(rows[static_cast<int>(values.size())][0].is_null());
  store::PgArray numbers(store::PgElement::kInt8);
  numbers.add(std::int64_t{-1700000000123});
  numbers.add_null();
  std::string nbytes = numbers.finish();
  conn.prepare("sum", "select sum(v), count(*) from unnest($1::bigint[]) v");
  auto sum = tx.exec_prepared1("sum", pqxx::binarystring(nbytes.data(), nbytes.size()));
  CHECK(sum[0].as<std::int64_t>() == -1700000000123);
  CHECK(sum[1].as<int>() == 2);
}

TEST_CASE("a write lands only when it wins the total order", "[postgres]") {
  worker_test::ScratchDatabase db;
  migrate(db.url());
  Harness h(db.url());
  auto r1 = h.apply({user_event("user_1", "e2", T + 200, T + 200, "second")});
  CHECK(r1.outcomes[static_cast<int>(apply::Outcome::kApplied)] == 1);
  auto r2 = h.apply({user_event("user_1", "e1", T + 100, T + 100, "first")});
  CHECK(r2.outcomes[static_cast<int>(apply::Outcome::kStale)] == 1);
  // Same version and timestamp: the greater event id wins.
  h.apply({user_event("user_1", "e3", T + 200, T + 200, "tie-greater-id")});
  h.apply({user_event("user_1", "e0", T + 200, T + 200, "tie-smaller-id")});
  auto row = one(db.url(),
                 "select first_name, version, version_event_id, primary_email_address, "
                 "email_addresses->0->>'email_address', payload->>'id', public_metadata->>'role', "
                 "updated_at = clerk.ms_to_timestamptz(version), last_event_id from clerk.users");
  CHECK(row[0].as<std::string>() == "tie-greater-id");
  CHECK(row[1].as<std::int64_t>() == T + 200);
  CHECK(row[2].as<std::string>() == "e3");
  CHECK(row[3].as<std::string>() == "someone@example.org");
  CHECK(row[4].as<std::string>() == "someone@example.org");
  CHECK(row[5].as<std::string>() == "user_1");
  CHECK(row[6].as<std::string>() == "member");
  CHECK(row[7].as<bool>());
  CHECK(row[8].as<std::string>() == "e3");
  // A redelivered event id is a duplicate, whatever its content.
  auto r3 = h.apply({user_event("user_1", "e3", T + 200, T + 200, "tie-greater-id")});
  CHECK(r3.outcomes[static_cast<int>(apply::Outcome::kDuplicate)] == 1);
}

TEST_CASE("deletes are soft, never undone by older updates, and cascade to memberships",
          "[postgres]") {
  worker_test::ScratchDatabase db;
  migrate(db.url());
  Harness h(db.url());
  // Membership first, before its user and organization exist.
  h.apply({membership_event("orgmem_1", "org_1", "user_1", "m1", T + 10, T + 10, "org:admin")});
  h.apply({user_event("user_1", "u1", T + 20, T + 20, "alive", "user.created")});
  h.apply({delete_event("user.deleted", "user", "user_1", "ud", T + 100)});
  auto user = one(db.url(),
                  "select (extract(epoch from deleted_at)*1000)::bigint, first_name, "
                  "last_event_id from clerk.users where id = 'user_1'");
  CHECK(user[0].as<std::int64_t>() == T + 100);
  CHECK(user[1].as<std::string>() == "alive");  // the row is kept, with its fields
  CHECK(user[2].as<std::string>() == "ud");
  CHECK(one(db.url(),
            "select deleted_at is not null, deleted_event_id from "
            "clerk.organization_memberships where id = 'orgmem_1'")[0]
            .as<bool>());

  // An update older than the delete but newer than the stored fields: fields move,
  // the row stays deleted.
  h.apply({user_event("user_1", "u2", T + 50, T + 50, "late-but-newer-fields")});
  user = one(db.url(), "select deleted_at is not null, first_name from clerk.users");
  CHECK(user[0].as<bool>());
  CHECK(user[1].as<std::string>() == "late-but-newer-fields");

  // A membership inserted after its organization was deleted starts deleted.
  h.apply({delete_event("organization.deleted", "organization", "org_2", "od", T + 300)});
  h.apply({membership_event("orgmem_2", "org_2", "user_9", "m2", T + 200, T + 200, "org:member",
                            "organizationMembership.created")});
  auto m2 = one(db.url(),
                "select (extract(epoch from deleted_at)*1000)::bigint, role, deleted_event_id "
                "from clerk.organization_memberships where id = 'orgmem_2'");
  CHECK(m2[0].as<std::int64_t>() == T + 300);
  CHECK(m2[1].as<std::string>() == "org:member");
  CHECK(m2[2].as<std::string>() == "od");

  // Delete before create: the tombstone wins over the older creation, which still
  // fills the fields.
  h.apply({delete_event("organization.deleted", "organization", "org_3", "od3", T + 500)});
  HistoryEvent created;
  created.event_id = "oc3";
  created.type = "organization.created";
  created.entity_id = created.key = "org_3";
  created.timestamp = T + 400;
  created.json = worker_test::envelope(
      "organization.created", worker_test::organization_data("org_3", T + 400, "Acme"), T + 400);
  h.apply({created});
  auto org =
      one(db.url(),
          "select deleted_at is not null, name, slug, members_count, public_metadata->>'plan' "
          "from clerk.organizations where id = 'org_3'");
  CHECK(org[0].as<bool>());
  CHECK(org[1].as<std::string>() == "Acme");
  CHECK(org[2].as<std::string>() == "slug-org_3");
  CHECK(org[3].as<int>() == 3);
  CHECK(org[4].as<std::string>() == "pro");
  CHECK(one(db.url(), "select count(*) from clerk.applied_events where outcome = 'applied'")[0]
            .as<int>() == 8);
}

TEST_CASE("random histories converge to the model in any batching, on two consumers",
          "[postgres]") {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    INFO("seed " << seed);
    worker_test::ScratchDatabase db;
    migrate(db.url());
    worker_test::HistoryOptions options;
    options.id_prefix = "s" + std::to_string(seed) + "_";
    auto history = worker_test::make_history(seed, options);
    auto coverage = worker_test::history_coverage(history);
    CHECK(coverage.deletes_before_first_upsert > 0);
    CHECK(coverage.memberships_before_parent > 0);
    CHECK(coverage.duplicates > 0);
    Harness a(db.url()), b(db.url());
    std::mt19937_64 rng(seed);
    // Partition by key (memberships by organization) over 4 partitions, two consumers.
    std::map<std::int32_t, std::vector<HistoryEvent>> by_partition;
    for (const auto& e : history) {
      by_partition[static_cast<std::int32_t>(std::hash<std::string>{}(e.key) % 4)].push_back(e);
    }
    std::map<std::int32_t, std::size_t> position;
    bool progress = true;
    while (progress) {
      progress = false;
      for (auto& [partition, events] : by_partition) {
        auto& pos = position[partition];
        if (pos >= events.size()) continue;
        progress = true;
        auto n = std::min(events.size() - pos,
                          static_cast<std::size_t>(std::uniform_int_distribution<int>(1, 40)(rng)));
        std::vector<HistoryEvent> slice(events.begin() + static_cast<std::ptrdiff_t>(pos),
                                        events.begin() + static_cast<std::ptrdiff_t>(pos + n));
        (partition % 2 == 0 ? a : b).apply(slice, partition);
        pos += n;
      }
    }
    auto diff = worker_test::diff_tables(worker_test::expected_tables(history),
                                         worker_test::actual_tables(db.url()));
    for (const auto& line : diff)
      UNSCOPED_INFO(line);
    CHECK(diff.empty());
    // Some memberships ended only because their user or organization was deleted.
    CHECK(one(db.url(),
              "select count(*) from clerk.organization_memberships m where "
              "m.deleted_event_id in (select deleted_event_id from clerk.users union "
              "all select deleted_event_id from clerk.organizations)")[0]
              .as<int>() > 0);
    // The audit trail: one row per record; each event id applied at most once.
    CHECK(one(db.url(), "select count(*) from clerk.applied_events")[0].as<std::size_t>() ==
          history.size());
    CHECK(one(db.url(),
              "select count(*) from (select event_id from clerk.applied_events where "
              "outcome = 'applied' group by 1 having count(*) > 1) x")[0]
              .as<int>() == 0);
    std::set<std::string> distinct;
    for (const auto& e : history)
      distinct.insert(e.event_id);
    CHECK(one(db.url(), "select count(*) from clerk.applied_events where outcome = 'duplicate'")[0]
              .as<std::size_t>() == history.size() - distinct.size());
  }
}

TEST_CASE("an event that fails on its own is routed to a retry topic; the rest apply",
          "[postgres]") {
  worker_test::ScratchDatabase db;
  migrate(db.url());
  Harness h(db.url());
  auto good1 = user_event("user_1", "g1", T, T, "fine");
  auto good2 = user_event("user_2", "g2", T, T, "fine");
  auto poison = user_event("user_3", "p1", T, T, "poison");
  // jsonb cannot store \u0000: PostgreSQL refuses it (22P05), only for this event.
  poison.json.replace(poison.json.find("\"role\":\"member\""), 15, "\"role\":\"\\u0000\"");
  auto older_same_user = user_event("user_3", "p0", T - 10, T - 10, "older");
  auto malformed = user_event("user_4", "m1", T, T, "x");
  malformed.json = "{not json";
  auto session = user_event("user_5", "s1", T, T, "x", "session.created");
  auto result = h.apply({good1, poison, good2, older_same_user, malformed, session});
  CHECK(result.outcomes[static_cast<int>(apply::Outcome::kApplied)] == 3);
  CHECK(result.outcomes[static_cast<int>(apply::Outcome::kRetried)] == 1);
  CHECK(result.outcomes[static_cast<int>(apply::Outcome::kDeadLettered)] == 1);
  CHECK(result.outcomes[static_cast<int>(apply::Outcome::kIgnored)] == 1);
  REQUIRE(h.router.published.size() == 2);
  CHECK(h.router.published[0].topic == "clerk.events.retry.1");
  CHECK(h.router.published[0].value == poison.json);
  CHECK(common::kafka::find_header(h.router.published[0].headers, "error-message")
            ->value.rfind("22P05", 0) == 0);
  CHECK(h.router.published[1].topic == "clerk.events.dlq");
  CHECK(common::kafka::find_header(h.router.published[1].headers, "error-class")->value ==
        "malformed");
  // The older update of the poisoned user applied meanwhile.
  CHECK(one(db.url(), "select first_name from clerk.users where id = 'user_3'")[0]
            .as<std::string>() == "older");
  CHECK(one(db.url(),
            "select events from clerk.ignored_event_types where event_type = "
            "'session.created'")[0]
            .as<int>() == 1);
  CHECK(one(db.url(), "select next_offset from clerk.consumer_offsets")[0].as<int>() == 6);
}

TEST_CASE("a consumer whose partition was moved past is fenced out", "[postgres]") {
  worker_test::ScratchDatabase db;
  migrate(db.url());
  Harness owner(db.url()), zombie(db.url());
  std::vector<HistoryEvent> events;
  for (int i = 0; i < 10; ++i) {
    events.push_back(
        user_event("user_" + std::to_string(i), "e" + std::to_string(i), T + i, T + i, "owner"));
  }
  auto result = owner.apply(events);
  CHECK(result.committed.size() == 1);
  CHECK(result.committed[0].offset == 10);
  // The zombie still believes it owns offsets 0..4.
  std::vector<HistoryEvent> stale(events.begin(), events.begin() + 5);
  for (auto& e : stale)
    e.event_id += "-zombie";
  auto fenced = zombie.apply(stale);
  CHECK(fenced.committed.empty());
  REQUIRE(zombie.fenced.size() == 1);
  CHECK(zombie.fenced[0].offset == 10);
  CHECK(one(db.url(), "select count(*) from clerk.applied_events")[0].as<int>() == 10);
  CHECK(one(db.url(), "select count(*) from clerk.users where first_name = 'owner'")[0].as<int>() ==
        10);
}

TEST_CASE("a deletion stamped in whole seconds ends an update from earlier in its second",
          "[postgres]") {
  for (bool deletion_first : {false, true}) {
    INFO("deletion first: " << deletion_first);
    worker_test::ScratchDatabase db;
    migrate(db.url());
    Harness h(db.url());
    // updated_at and the membership in milliseconds, the deletion's timestamp in seconds.
    auto update = user_event("user_s", "u1", 1700000000400, 1700000000400, "alive");
    auto membership =
        membership_event("orgmem_s", "org_s", "user_s", "m1", 1700000000300, 1700000000300, "x");
    auto deletion = delete_event("user.deleted", "user", "user_s", "d1", 1700000000);
    if (deletion_first) {
      h.apply({deletion});
      h.apply({update, membership});
    } else {
      h.apply({update, membership});
      h.apply({deletion});
    }
    CHECK(one(db.url(), "select deleted_at is not null from clerk.users where id = 'user_s'")[0]
              .as<bool>());
    CHECK(one(db.url(),
              "select deleted_at is not null from clerk.organization_memberships "
              "where id = 'orgmem_s'")[0]
              .as<bool>());
  }
}

TEST_CASE("a fence reaches the caller even when the rest of the batch then fails", "[postgres]") {
  worker_test::ScratchDatabase db;
  migrate(db.url());
  Harness owner(db.url()), zombie(db.url());
  std::vector<HistoryEvent> moved;
  for (int i = 0; i < 4; ++i) {
    moved.push_back(
        user_event("user_" + std::to_string(i), "e" + std::to_string(i), T + i, T + i, "owner"));
  }
  owner.apply(moved);  // partition 0 stored at 4 by the partition's new owner

  // The zombie's batch: partition 0 from offset 0 (fenced) and, on partition 1, an
  // event that must go to a retry topic, whose publish then fails.
  auto malformed = user_event("user_9", "m9", T, T, "x");
  malformed.json = "{not json";
  std::vector<apply::InboundEvent> batch;
  for (const auto& e : moved)
    batch.push_back(apply::read_inbound(zombie.record(e, 0), zombie.decoder));
  batch.push_back(apply::read_inbound(zombie.record(malformed, 1), zombie.decoder));
  zombie.router.failures_left = 1;
  std::vector<common::kafka::TopicPartition> fenced;
  CHECK_THROWS_AS(zombie.processor.process(batch, fenced), consume::RoutingError);
  REQUIRE(fenced.size() == 1);
  CHECK(fenced[0].partition == 0);
  CHECK(fenced[0].offset == 4);
  REQUIRE(batch.size() == 1);  // what the caller retries: partition 1 alone
  CHECK(batch[0].record.partition == 1);

  fenced.clear();
  zombie.processor.process(batch, fenced);
  CHECK(fenced.empty());
  CHECK(zombie.router.published.size() == 1);
  CHECK(one(db.url(), "select next_offset from clerk.consumer_offsets where partition = 0")[0]
            .as<int>() == 4);
  CHECK(one(db.url(), "select next_offset from clerk.consumer_offsets where partition = 1")[0]
            .as<int>() == 1);
}

namespace {

/// The real store, whose first COMMIT fails as a lost connection would (and
/// rolls back).
class CommitFailsOnce : public worker_test::ForwardingStore {
  struct Transaction : worker_test::ForwardingTransaction {
    Transaction(std::unique_ptr<store::MirrorTransaction> real, bool& failed)
        : ForwardingTransaction(std::move(real)), failed(failed) {}
    void commit() override {
      if (!failed) {
        failed = true;
        throw store::StoreError(store::StoreFailure::kConnectionLost, "", "injected");
      }
      ForwardingTransaction::commit();
    }
    bool& failed;
  };

 public:
  using ForwardingStore::ForwardingStore;
  std::unique_ptr<store::MirrorTransaction> begin() override {
    return std::make_unique<Transaction>(ForwardingStore::begin(), failed);
  }
  bool failed = false;
};

}  // namespace

TEST_CASE("a batch retried after its commit failed does not publish its copies again",
          "[postgres]") {
  worker_test::ScratchDatabase db;
  migrate(db.url());
  Harness h(db.url());
  CommitFailsOnce faulty(h.store);
  consume::BatchProcessor processor(faulty, h.router, h.policy, h.metrics, h.logger,
                                    {"clerk.events", "test-worker"},
                                    [] { return std::int64_t{1800000000000}; });
  auto good = user_event("user_1", "g1", T, T, "good");
  auto malformed = user_event("user_2", "m1", T, T, "x");
  malformed.json = "{not json";
  std::vector<apply::InboundEvent> batch;
  for (const auto& e : {good, malformed})
    batch.push_back(apply::read_inbound(h.record(e, 0), h.decoder));
  std::vector<common::kafka::TopicPartition> fenced;
  CHECK_THROWS_AS(processor.process(batch, fenced), store::StoreError);
  CHECK(faulty.failed);
  CHECK(h.router.published.size() == 1);  // acknowledged before the commit failed
  CHECK(one(db.url(), "select count(*) from clerk.applied_events")[0].as<int>() == 0);

  auto result = processor.process(batch, fenced);  // the caller's retry in place
  CHECK(fenced.empty());
  CHECK(h.router.published.size() == 1);
  CHECK(result.outcomes[static_cast<std::size_t>(apply::Outcome::kDeadLettered)] == 1);
  CHECK(one(db.url(), "select count(*) from clerk.applied_events")[0].as<int>() == 2);
  CHECK(one(db.url(), "select next_offset from clerk.consumer_offsets")[0].as<int>() == 2);

  // A later batch's failure is published as usual.
  auto again = user_event("user_3", "m2", T, T, "x");
  again.json = "{not json";
  h.router.published.clear();
  std::vector<apply::InboundEvent> next{apply::read_inbound(h.record(again, 0), h.decoder)};
  processor.process(next, fenced);
  CHECK(h.router.published.size() == 1);
}

TEST_CASE("records between the stored offset and a batch are counted as skipped", "[postgres]") {
  worker_test::ScratchDatabase db;
  migrate(db.url());
  Harness h(db.url());
  h.apply({user_event("user_1", "s1", T, T, "a"), user_event("user_2", "s2", T, T, "b")});
  auto metric = [&] {
    auto text = h.registry.render();
    auto at = text.find("\nclerk_mirror_worker_skipped_records_total ");
    REQUIRE(at != std::string::npos);
    return std::stod(text.substr(at + 43));
  };
  CHECK(metric() == 0);
  h.next_offset[0] = 7;  // offsets 2..6 deleted by retention before they were consumed
  auto result = h.apply({user_event("user_3", "s3", T, T, "c")});
  CHECK(h.fenced.empty());
  REQUIRE(result.committed.size() == 1);
  CHECK(result.committed[0].offset == 8);
  CHECK(metric() == 5);
}

TEST_CASE("the audit trail is pruned by age, a bounded chunk at a time", "[postgres]") {
  worker_test::ScratchDatabase db;
  migrate(db.url());
  Harness worker(db.url());
  std::vector<HistoryEvent> events;
  for (int i = 0; i < 5; ++i) {
    events.push_back(
        user_event("user_" + std::to_string(i), "e" + std::to_string(i), T + i, T + i, "kept"));
  }
  worker.apply(events);
  REQUIRE(one(db.url(), "select count(*) from clerk.applied_events")[0].as<int>() == 5);
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec0(
        "update clerk.applied_events set applied_at = now() - interval '49 hours' "
        "where event_id in ('e0', 'e1', 'e2')");
    tx.commit();
  }

  CHECK(worker.store.prune_audit(std::chrono::hours(48), 2) == 2);
  CHECK(worker.store.prune_audit(std::chrono::hours(48), 2) == 1);
  CHECK(worker.store.prune_audit(std::chrono::hours(48), 2) == 0);
  CHECK(one(db.url(),
            "select string_agg(event_id, ',' order by event_id) from clerk.applied_events")[0]
            .as<std::string>() == "e3,e4");
  // Pruning the trail forgets nothing in the mirror itself.
  CHECK(one(db.url(), "select count(*) from clerk.users where first_name = 'kept'")[0].as<int>() ==
        5);
}
