#include <catch2/catch.hpp>
#include <set>

#include "common/logging/logger.hpp"
#include "support/fake_clerk_api.hpp"
#include "support/sync_fakes.hpp"
#include "worker/sync/backfill_runner.hpp"
#include "worker/sync/clerk_api_client.hpp"
#include "worker/sync/curl_http_transport.hpp"
#include "worker/sync/entity_syncer.hpp"
#include "worker/sync/reconcile_runner.hpp"

using namespace worker::sync;

namespace {

/// The runners against the fake API over real HTTP, with in-memory store and
/// publisher and a clock that never really waits.
struct Harness {
  Harness() : client(settings(), transport, clock, logger) {}
  ClerkApiSettings settings() {
    ClerkApiSettings s;
    s.base_url = api.url();
    s.secret_key = api.secret_key();
    s.requests_per_second = 1000;
    return s;
  }
  std::set<std::string> published_ids(std::string_view type_prefix = "") const {
    std::set<std::string> ids;
    for (std::size_t i = 0; i < publisher.published.size(); ++i) {
      std::string type = publisher.header(i, "event-type");
      if (type.rfind(type_prefix, 0) != 0) continue;
      const std::string& v = publisher.published[i].value;
      // The entity id is the first "id" after "data".
      auto at = v.find("\"id\":\"", v.find("\"data\":"));
      ids.insert(v.substr(at + 6, v.find('"', at + 6) - at - 6));
    }
    return ids;
  }
  void seed(int users, int organizations, int members_each) {
    std::vector<std::string> user_ids;
    for (int i = 0; i < users; ++i)
      user_ids.push_back(api.data().add_user().id);
    for (int o = 0; o < organizations; ++o) {
      auto org = api.data().add_organization();
      for (int m = 0; m < members_each; ++m)
        api.data().add_membership(org.id,
                                  user_ids[static_cast<std::size_t>(o + m) % user_ids.size()]);
    }
  }
  void mirror_everything() {
    for (const auto& u : api.data().users())
      store.mirror[EntityKind::kUser][u.id] = {u.id, u.created_at, u.updated_at, false, "", "", ""};
    for (const auto& o : api.data().organizations())
      store.mirror[EntityKind::kOrganization][o.id] = {
          o.id, o.created_at, o.updated_at, false, "", "", ""};
    for (const auto& m : api.data().memberships())
      store.mirror[EntityKind::kMembership][m.id] = {
          m.id, m.created_at, m.updated_at, false, m.organization_id, m.user_id, m.role};
  }

  common::logging::Logger logger{"test", common::logging::Level::kError};
  sync_test::FakeClerkApi api;
  sync_test::ManualClock clock;
  CurlHttpTransport transport;
  ClerkApiClient client;
  sync_test::RecordingPublisher publisher;
  sync_test::MemorySyncStore store;
  sync_test::SilentProgress progress;
};

BackfillOptions small_pages() {
  BackfillOptions o;
  o.page_size = 7;
  o.overlap = 2;
  return o;
}

}  // namespace

TEST_CASE("backfill publishes every entity once and records the run", "[unit]") {
  Harness h;
  h.seed(30, 5, 4);
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  BackfillResult result = runner.run(small_pages());
  CHECK(result.status == RunStatus::kSucceeded);
  CHECK(h.publisher.published.size() == 30 + 5 + 20);
  CHECK(h.published_ids("user.").size() == 30);
  CHECK(h.published_ids("organization.").size() == 5);
  CHECK(h.published_ids("organizationMembership.").size() == 20);
  CHECK(result.counts.kinds[EntityKind::kUser].published == 30);
  CHECK(result.counts.kinds[EntityKind::kUser].expected == 30);
  CHECK(result.counts.kinds[EntityKind::kMembership].published == 20);
  CHECK(h.store.checkpoints.empty());
  REQUIRE(h.store.runs.size() == 1);
  CHECK(h.store.runs[0].status == RunStatus::kSucceeded);
  CHECK(h.store.runs[0].scope == "users,organizations,memberships");
  for (std::size_t i = 0; i < h.publisher.published.size(); ++i)
    CHECK(h.publisher.header(i, "source") == "backfill");
}

TEST_CASE("a failed backfill resumes from its checkpoint without re-publishing everything",
          "[unit]") {
  Harness h;
  h.seed(40, 6, 5);
  {
    BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
    h.publisher.fail_on_call = 12;  // among the memberships
    CHECK_THROWS_AS(runner.run(small_pages()), PublishError);
    CHECK(h.store.runs.back().status == RunStatus::kFailed);
    CHECK_THAT(h.store.runs.back().error, Catch::Contains("injected"));
  }
  CHECK(h.store.checkpoints.count(EntityKind::kOrganization) == 1);
  std::size_t before = h.publisher.published.size();
  h.publisher.fail_on_call = -1;
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  BackfillResult result = runner.run(small_pages());
  CHECK(result.status == RunStatus::kSucceeded);
  CHECK(result.resumed_from == 1);
  CHECK(h.published_ids("user.").size() == 40);
  CHECK(h.published_ids("organization.").size() == 6);
  CHECK(h.published_ids("organizationMembership.").size() == 30);
  // The second run did not start over: it published only what was left (plus at most a page).
  CHECK(h.publisher.published.size() - before < 76 - 40);
  CHECK(h.store.checkpoints.empty());
}

TEST_CASE("a users checkpoint left by an older run is not resumed after a newer backfill",
          "[unit]") {
  Harness h;
  h.seed(20, 6, 3);
  {
    // Run 1, everything: users done, then a failure among the organizations.
    BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
    h.publisher.fail_on_call = 6;
    CHECK_THROWS_AS(runner.run(small_pages()), PublishError);
    REQUIRE(h.store.checkpoints.count(EntityKind::kUser) == 1);
  }
  h.publisher.fail_on_call = -1;
  {
    // Run 2, organizations and memberships only: succeeds.
    BackfillOptions orgs = small_pages();
    orgs.users = false;
    BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
    CHECK(runner.run(orgs).status == RunStatus::kSucceeded);
  }
  // Users created since; run 3, everything, must walk the users again.
  for (int i = 0; i < 3; ++i)
    h.api.data().add_user();
  h.publisher.published.clear();
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  BackfillResult result = runner.run(small_pages());
  CHECK(result.status == RunStatus::kSucceeded);
  CHECK_FALSE(result.resumed_from);
  CHECK(h.published_ids("user.").size() == 23);
  CHECK(h.store.checkpoints.empty());
}

TEST_CASE("an organizations checkpoint is resumed only by a run it covers", "[unit]") {
  Harness h;
  h.seed(6, 6, 3);
  BackfillOptions narrow;
  narrow.page_size = 2;
  narrow.overlap = 1;
  narrow.users = narrow.memberships = false;
  {
    BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
    h.publisher.fail_on_call = 2;  // the second page of organizations
    CHECK_THROWS_AS(runner.run(narrow), PublishError);
  }
  REQUIRE(h.store.checkpoints.count(EntityKind::kOrganization) == 1);
  h.publisher.fail_on_call = -1;
  h.publisher.published.clear();
  BackfillOptions all;
  all.page_size = 2;
  all.overlap = 1;
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  BackfillResult result = runner.run(all);
  CHECK(result.status == RunStatus::kSucceeded);
  // The checkpoint had walked no memberships: this run must not skip them.
  CHECK_FALSE(result.resumed_from.has_value());
  CHECK(h.published_ids("organizationMembership.").size() == 18);
  CHECK(h.published_ids("organization.").size() == 6);
  CHECK(h.store.checkpoints.empty());
}

TEST_CASE("a resumed organizations page publishes organizations that moved into it", "[unit]") {
  Harness h;
  h.seed(3, 10, 1);
  BackfillOptions options;
  options.page_size = 4;
  options.overlap = 2;
  options.users = false;
  {
    BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
    // Calls: page 1 (1) and its 4 organizations' memberships (2-5), page 2 (6),
    // its first organization's memberships (7), the second's (8).
    h.publisher.fail_on_call = 8;
    CHECK_THROWS_AS(runner.run(options), PublishError);
  }
  REQUIRE(h.store.checkpoints.count(EntityKind::kOrganization) == 1);
  CHECK(h.store.checkpoints[EntityKind::kOrganization].page_published);
  // While no run goes on, the newest organization is deleted: the resumed page
  // now reaches one organization further than the page that was published.
  h.api.data().delete_organization(h.api.data().organizations().front().id);
  h.publisher.fail_on_call = -1;
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  BackfillResult result = runner.run(options);
  CHECK(result.status == RunStatus::kSucceeded);
  CHECK(result.resumed_from == 1);
  auto published = h.published_ids("organization.");
  for (const auto& org : h.api.data().organizations())
    CHECK(published.count(org.id) == 1);
  auto members = h.published_ids("organizationMembership.");
  for (const auto& m : h.api.data().memberships())
    CHECK(members.count(m.id) == 1);
}

TEST_CASE("a stop request interrupts a backfill and keeps its checkpoint", "[unit]") {
  Harness h;
  h.seed(50, 0, 0);
  h.api.on_list([&](const std::string&, int n) {
    if (n == 3) h.clock.request_stop();
  });
  BackfillOptions options = small_pages();
  options.organizations = options.memberships = false;
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  BackfillResult result = runner.run(options);
  CHECK(result.status == RunStatus::kInterrupted);
  CHECK(h.store.runs.back().status == RunStatus::kInterrupted);
  REQUIRE(h.store.checkpoints.count(EntityKind::kUser) == 1);
  CHECK(h.store.checkpoints[EntityKind::kUser].outer.next_offset > 0);
}

TEST_CASE("backfill takes every entity that existed throughout, while pages shift", "[unit]") {
  Harness h;
  h.seed(60, 0, 0);
  std::set<std::string> deleted;
  auto initial = h.api.data().users();
  h.api.on_list([&](const std::string& path, int n) {
    if (path != "/v1/users" || n < 2 || n > 6) return;
    // Before pages 2 to 6: two new users at the front, five deleted among the
    // first pages (a net shift back of three, more than the overlap: the cursor
    // must step back).
    h.api.data().add_user();
    h.api.data().add_user();
    auto users = h.api.data().users();
    for (int k = 0; k < 5 && users.size() > 10; ++k) {
      const auto& victim = users[static_cast<std::size_t>(5 + k)];
      if (victim.id.rfind("user_", 0) == 0 && deleted.insert(victim.id).second)
        h.api.data().delete_user(victim.id);
    }
  });
  BackfillOptions options = small_pages();
  options.organizations = options.memberships = false;
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  runner.run(options);
  auto ids = h.published_ids();
  for (const auto& u : initial) {
    if (deleted.count(u.id) == 0) CHECK(ids.count(u.id) == 1);
  }
  // No entity was published twice.
  CHECK(ids.size() == h.publisher.published.size());
  CHECK(initial.size() - deleted.size() >= 30);
}

TEST_CASE("a dry-run backfill counts and publishes nothing", "[unit]") {
  Harness h;
  h.seed(12, 3, 2);
  BackfillOptions options = small_pages();
  options.dry_run = true;
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  BackfillResult result = runner.run(options);
  CHECK(result.status == RunStatus::kSucceeded);
  CHECK(h.publisher.published.empty());
  CHECK(h.store.checkpoint_writes == 0);
  CHECK(result.counts.kinds[EntityKind::kUser].expected == 12);
  CHECK(result.counts.kinds[EntityKind::kOrganization].expected == 3);
  CHECK(result.counts.kinds[EntityKind::kMembership].expected == 6);
  CHECK(h.store.runs.back().dry_run);
}

TEST_CASE("a dry-run backfill counts past an organization deleted meanwhile", "[unit]") {
  Harness h;
  h.seed(12, 3, 2);
  std::string gone;
  h.api.on_list([&](const std::string& path, int) {
    auto at = path.find("/memberships");
    if (at == std::string::npos || !gone.empty()) return;
    gone = path.substr(std::string("/v1/organizations/").size(),
                       at - std::string("/v1/organizations/").size());
    h.api.data().delete_organization(gone);  // between the listing and its count
  });
  BackfillOptions options = small_pages();
  options.dry_run = true;
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  BackfillResult result = runner.run(options);
  REQUIRE_FALSE(gone.empty());
  CHECK(result.status == RunStatus::kSucceeded);
  CHECK(result.counts.kinds[EntityKind::kOrganization].expected == 3);
  CHECK(result.counts.kinds[EntityKind::kMembership].expected == 4);
  CHECK(h.publisher.published.empty());
}

TEST_CASE("only one backfill runs at a time", "[unit]") {
  Harness h;
  h.store.locked_elsewhere = true;
  BackfillRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  CHECK_THROWS_AS(runner.run(small_pages()), RunBusy);
  CHECK(h.store.runs.empty());
}

TEST_CASE("reconcile reports exactly the drift and publishes its fixes", "[unit]") {
  Harness h;
  h.seed(25, 4, 3);
  h.mirror_everything();
  auto users = h.api.data().users();
  auto orgs = h.api.data().organizations();
  auto& mirror = h.store.mirror;
  // missing: a user and a membership the mirror never got
  mirror[EntityKind::kUser].erase(users[3].id);
  std::string missing_member = h.api.data().memberships()[0].id;
  mirror[EntityKind::kMembership].erase(missing_member);
  // stale: an update the mirror missed
  h.api.data().update_user(users[7].id, users[7].updated_at + 5000);
  h.api.data().update_organization(orgs[1].id, orgs[1].updated_at + 5000);
  // gone: deleted at the source, alive in the mirror
  h.api.data().delete_user(users[10].id);  // with its memberships
  auto removed = h.api.data().delete_organization(orgs[2].id);
  // alive in the mirror but created after the run started: not gone
  mirror[EntityKind::kUser]["user_young"] = {
      "user_young", h.clock.wall_ms() + 60000, 0, false, "", "", ""};
  // deleted in the mirror: never drift
  mirror[EntityKind::kUser]["user_dead"] = {"user_dead", 1, 1, true, "", "", ""};

  std::set<std::string> gone_members;
  for (const auto& [id, row] : mirror[EntityKind::kMembership]) {
    if (!h.api.data().membership(id)) gone_members.insert(id);
  }

  ReconcileOptions options;
  options.page_size = 6;
  options.overlap = 2;
  options.dry_run = true;
  ReconcileRunner runner(h.client, h.publisher, h.store, h.clock, h.progress);
  ReconcileResult dry = runner.run(options);
  CHECK(h.publisher.published.empty());
  CHECK(dry.drift[EntityKind::kUser].missing == std::set<std::string>{users[3].id});
  CHECK(dry.drift[EntityKind::kUser].stale == std::set<std::string>{users[7].id});
  CHECK(dry.drift[EntityKind::kUser].gone == std::set<std::string>{users[10].id});
  CHECK(dry.drift[EntityKind::kOrganization].missing.empty());
  CHECK(dry.drift[EntityKind::kOrganization].stale == std::set<std::string>{orgs[1].id});
  CHECK(dry.drift[EntityKind::kOrganization].gone == std::set<std::string>{orgs[2].id});
  CHECK(dry.drift[EntityKind::kMembership].missing == std::set<std::string>{missing_member});
  CHECK(dry.drift[EntityKind::kMembership].gone == gone_members);
  CHECK(h.store.runs.back().drift_found == static_cast<std::int64_t>(6 + gone_members.size()));

  options.dry_run = false;
  ReconcileResult fixed = runner.run(options);
  CHECK(fixed.drift[EntityKind::kUser].total() == 3);
  std::set<std::string> types;
  for (std::size_t i = 0; i < h.publisher.published.size(); ++i) {
    CHECK(h.publisher.header(i, "source") == "reconcile");
    types.insert(h.publisher.header(i, "event-type"));
  }
  CHECK(h.publisher.published.size() == 6 + gone_members.size());
  CHECK(types.count("user.deleted") == 1);
  CHECK(types.count("organization.deleted") == 1);
  CHECK(types.count("user.updated") == 1);
}

TEST_CASE("sync user and sync organization publish now, and delete what is gone", "[unit]") {
  Harness h;
  h.seed(5, 2, 3);
  h.mirror_everything();
  auto user = h.api.data().users()[0];
  auto org = h.api.data().organizations()[0];
  EntitySyncer syncer(h.client, h.publisher, h.store, h.clock);

  EntitySyncResult one = syncer.run({EntityKind::kUser, user.id, false, 500, 5});
  CHECK(one.found);
  REQUIRE(h.publisher.published.size() == 1);
  CHECK(h.publisher.header(0, "source") == "sync");
  CHECK(h.publisher.published[0].key == user.id);

  // A membership the mirror still has but Clerk no longer lists.
  auto member = h.api.data().memberships();
  std::string dropped;
  for (const auto& m : member) {
    if (m.organization_id == org.id) dropped = m.id;
  }
  h.api.data().delete_membership(dropped);
  h.publisher.published.clear();
  EntitySyncResult with_members = syncer.run({EntityKind::kOrganization, org.id, false, 2, 1});
  CHECK(with_members.found);
  CHECK(with_members.memberships_deleted == 1);
  CHECK(h.publisher.published.size() == 1 + 2 + 1);
  CHECK(h.publisher.header(3, "event-type") == "organizationMembership.deleted");
  for (const auto& r : h.publisher.published)
    CHECK(r.key == org.id);

  h.api.data().delete_user(user.id);
  h.publisher.published.clear();
  EntitySyncResult gone = syncer.run({EntityKind::kUser, user.id, false, 500, 5});
  CHECK_FALSE(gone.found);
  CHECK(gone.deleted);
  REQUIRE(h.publisher.published.size() == 1);
  CHECK(h.publisher.header(0, "event-type") == "user.deleted");

  h.publisher.published.clear();
  EntitySyncResult dry = syncer.run({EntityKind::kOrganization, org.id, true, 500, 5});
  CHECK(dry.found);
  CHECK(h.publisher.published.empty());
}

TEST_CASE("sync organization never ends a membership created while it walks", "[unit]") {
  Harness h;
  h.seed(5, 1, 4);
  h.mirror_everything();
  auto org = h.api.data().organizations()[0];
  auto user = h.api.data().users()[0];
  std::string fresh;
  int member_lists = 0;
  h.api.on_list([&](const std::string& path, int) {
    if (path.find("/memberships") == std::string::npos || ++member_lists != 2) return;
    // Created after the first page was served: newest first, the walk never lists
    // it. Its webhook reaches the mirror at once, stamped by a clock far behind
    // this machine's.
    auto m = h.api.data().add_membership(org.id, user.id);
    fresh = m.id;
    h.store.mirror[EntityKind::kMembership][m.id] = {m.id, 1, 1, false, org.id, user.id, m.role};
  });
  EntitySyncer syncer(h.client, h.publisher, h.store, h.clock);
  EntitySyncResult result = syncer.run({EntityKind::kOrganization, org.id, false, 2, 1});
  REQUIRE_FALSE(fresh.empty());
  CHECK(result.found);
  CHECK(result.memberships_deleted == 0);
  for (std::size_t i = 0; i < h.publisher.published.size(); ++i)
    CHECK(h.publisher.header(i, "event-type") != "organizationMembership.deleted");
}

TEST_CASE("a stopped sync is recorded as interrupted, not failed", "[unit]") {
  Harness h;
  h.seed(4, 1, 4);
  auto org = h.api.data().organizations()[0];
  h.api.on_list([&](const std::string&, int) { h.clock.request_stop(); });
  EntitySyncer syncer(h.client, h.publisher, h.store, h.clock);
  CHECK_THROWS(syncer.run({EntityKind::kOrganization, org.id, false, 2, 1}));
  REQUIRE(h.store.runs.size() == 1);
  CHECK(h.store.runs[0].status == RunStatus::kInterrupted);
  CHECK_THAT(h.store.runs[0].error, Catch::Contains("stop request"));
}
