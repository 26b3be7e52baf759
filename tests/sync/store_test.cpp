#include <catch2/catch.hpp>

#include "support/sync_e2e.hpp"
#include "worker/sync/postgres_sync_store.hpp"

using namespace worker::sync;

namespace {

/// A scratch database migrated by the real binary (which embeds 0050).
struct MigratedDatabase {
  MigratedDatabase() {
    auto migrated = test_support::run({test_support::binary("clerk-mirror"), "migrate"},
                                      {{"DATABASE_URL", db.url()}});
    if (migrated.code != 0) throw std::runtime_error("migrate failed: " + migrated.err);
  }
  sync_test::ScratchDatabase db;
};

}  // namespace

TEST_CASE("the run log records runs, closes abandoned ones and lists them", "[postgres]") {
  MigratedDatabase m;
  PostgresSyncStore store(m.db.url());
  CHECK(store.try_lock(RunKind::kBackfill));
  {
    PostgresSyncStore other(m.db.url());
    CHECK_FALSE(other.try_lock(RunKind::kBackfill));
    CHECK(other.try_lock(RunKind::kReconcile));
  }
  std::int64_t first = store.start_run(RunKind::kBackfill, "users", false, std::nullopt);
  RunCounts counts;
  counts.kinds[EntityKind::kUser].published = 12;
  store.record_progress(first, counts);
  CHECK(store.close_abandoned_runs(RunKind::kBackfill) == first);
  std::int64_t second = store.start_run(RunKind::kBackfill, "users", false, first);
  counts.api.requests = 3;
  store.finish_run(second, RunStatus::kSucceeded, counts, 0, "", "");
  std::int64_t third = store.start_run(RunKind::kReconcile, "users", true, std::nullopt);
  store.finish_run(third, RunStatus::kFailed, counts, 2, R"({"users":{"missing":["a","b"]}})",
                   "GET /v1/users: HTTP 500");

  auto runs = store.recent_runs(10);
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].id == third);
  CHECK(runs[0].status == "failed");
  CHECK(runs[0].dry_run);
  CHECK(runs[0].drift_found == 2);
  CHECK(runs[0].error == "GET /v1/users: HTTP 500");
  CHECK(runs[1].status == "succeeded");
  CHECK(runs[1].resumed_from == first);
  CHECK_THAT(runs[1].counts, Catch::Contains("\"published\": 12"));
  CHECK(runs[2].status == "interrupted");
  CHECK_FALSE(runs[2].finished_at.empty());

  // The newest run of a kind, dry runs left out.
  CHECK(store.latest_run(RunKind::kBackfill) == second);
  std::int64_t dry = store.start_run(RunKind::kBackfill, "users", true, std::nullopt);
  CHECK(dry > second);
  CHECK(store.latest_run(RunKind::kBackfill) == second);
  CHECK_FALSE(store.latest_run(RunKind::kReconcile));
  CHECK_FALSE(store.latest_run(RunKind::kSync));
}

TEST_CASE("checkpoints survive a round trip through the database", "[postgres]") {
  MigratedDatabase m;
  PostgresSyncStore store(m.db.url());
  std::int64_t run = store.start_run(RunKind::kBackfill, "organizations", false, std::nullopt);
  CHECK_FALSE(store.load_checkpoint(EntityKind::kOrganization).has_value());
  BackfillCheckpoint c;
  c.phase = EntityKind::kOrganization;
  c.run_id = run;
  c.outer = {500, 1700000000123, {"org_a", "org \"quoted\" \\ b"}, true, false};
  c.page_published = true;
  c.page_done = {"org_1", "org_2"};
  c.inner_organization = "org_3";
  c.inner = {40, 1700000000999, {"orgmem_9"}, true, false};
  store.save_checkpoint(c);
  CHECK(store.load_checkpoint(EntityKind::kOrganization) == c);
  c.page_done.clear();
  c.outer.done = true;
  store.save_checkpoint(c);
  CHECK(store.load_checkpoint(EntityKind::kOrganization) == c);
  CHECK_FALSE(store.load_checkpoint(EntityKind::kUser).has_value());
  store.clear_checkpoint(EntityKind::kOrganization);
  CHECK_FALSE(store.load_checkpoint(EntityKind::kOrganization).has_value());
}

TEST_CASE("reconcile reads the mirror tables in milliseconds", "[postgres]") {
  MigratedDatabase m;
  {
    pqxx::connection c(m.db.url());
    pqxx::work tx(c);
    tx.exec(
        "insert into clerk.users (id, created_at, updated_at, deleted_at) values "
        "('user_a', clerk.ms_to_timestamptz(1000), clerk.ms_to_timestamptz(2500), null), "
        "('user_b', clerk.ms_to_timestamptz(1000), clerk.ms_to_timestamptz(2000), now()), "
        "('user_c', clerk.ms_to_timestamptz(9000), clerk.ms_to_timestamptz(9000), null)");
    tx.exec(
        "insert into clerk.organization_memberships (id, created_at, updated_at, organization_id, "
        "user_id, role) values ('orgmem_1', clerk.ms_to_timestamptz(1000), "
        "clerk.ms_to_timestamptz(1001), 'org_1', 'user_a', 'org:admin')");
    tx.commit();
  }
  PostgresSyncStore store(m.db.url());
  auto rows = store.mirror_rows(EntityKind::kUser, {"user_a", "user_b", "user_x"});
  REQUIRE(rows.size() == 2);
  CHECK(rows["user_a"].updated_at_ms == 2500);
  CHECK_FALSE(rows["user_a"].deleted);
  CHECK(rows["user_b"].deleted);
  // Gone candidates: alive, created before the run, not met at the source. The ids
  // met are remembered in the session, whatever their number.
  auto unseen = store.unseen_alive_rows(EntityKind::kUser, 5000);
  REQUIRE(unseen.size() == 1);
  CHECK(unseen[0].id == "user_a");
  std::vector<std::string> many{"user_a"};
  for (int i = 0; i < 20000; ++i)
    many.push_back("user_src_" + std::to_string(i));
  CHECK(store.remember_seen(EntityKind::kUser, many).size() == many.size());
  CHECK(store.unseen_alive_rows(EntityKind::kUser, 5000).empty());
  // The set lives in the session: another connection has not met any.
  PostgresSyncStore other(m.db.url());
  CHECK(other.unseen_alive_rows(EntityKind::kUser, 5000).size() == 1);
  // Only the ids not met before come back; kinds are apart.
  auto fresh = store.remember_seen(EntityKind::kUser, {"user_a", "user_new", "user_new"});
  CHECK(fresh == std::vector<std::string>{"user_new"});
  CHECK(store.remember_seen(EntityKind::kOrganization, {"user_a"}).size() == 1);
  CHECK(store.unseen_alive_rows(EntityKind::kMembership, 5000).size() == 1);
  store.forget_seen();
  CHECK(store.unseen_alive_rows(EntityKind::kUser, 5000).size() == 1);
  auto members = store.alive_memberships("org_1");
  REQUIRE(members.size() == 1);
  CHECK(members[0].user_id == "user_a");
  CHECK(members[0].role == "org:admin");
  CHECK(members[0].created_at_ms == 1000);
}

TEST_CASE("a database without the sync tables is reported with the fix", "[postgres]") {
  sync_test::ScratchDatabase bare;
  PostgresSyncStore store(bare.url());
  CHECK_THROWS_WITH(store.start_run(RunKind::kSync, "user u", false, std::nullopt),
                    Catch::Contains("clerk-mirror migrate"));
  CHECK_THROWS_AS(PostgresSyncStore("postgresql://nobody@127.0.0.1:1/none"), SyncStoreError);
}
