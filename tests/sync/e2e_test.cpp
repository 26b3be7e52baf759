#include <simdjson.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <random>
#include <set>

#include "support/sync_e2e.hpp"
#include "support/webhook_history.hpp"

using namespace std::chrono_literals;
using sync_test::FakeClerkData;
using sync_test::mirror_differences;
using sync_test::SyncStack;
using sync_test::wait_until;

namespace {

/// Waits until the mirror equals the fake API's data; on timeout, says how it differs.
void require_mirror_equals(SyncStack& stack, const FakeClerkData& data,
                           std::chrono::milliseconds timeout = 60s) {
  std::vector<std::string> diffs;
  bool equal = wait_until(
      [&] {
        diffs = mirror_differences(stack.database_url(), data);
        return diffs.empty();
      },
      timeout, 500ms);
  if (!equal) {
    for (const auto& d : diffs)
      UNSCOPED_INFO(d);
    UNSCOPED_INFO("worker log tail: " << stack.worker_log().substr(
                      stack.worker_log().size() > 3000 ? stack.worker_log().size() - 3000 : 0));
  }
  REQUIRE(equal);
}

void seed(FakeClerkData& data, int users, int organizations, int members_each) {
  std::vector<std::string> ids;
  for (int i = 0; i < users; ++i)
    ids.push_back(data.add_user().id);
  for (int o = 0; o < organizations; ++o) {
    auto org = data.add_organization();
    for (int m = 0; m < members_each; ++m)
      data.add_membership(org.id, ids[static_cast<std::size_t>(o * 7 + m * 3) % ids.size()],
                          m == 0 ? "org:admin" : "org:member");
  }
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The ids of one drift list in the reconcile --json report.
using DriftIds = std::map<std::string, std::map<std::string, std::set<std::string>>>;
DriftIds parse_drift(const std::string& json, std::int64_t& drift_found) {
  namespace od = simdjson::ondemand;
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc = parser.iterate(padded);
  DriftIds out;
  drift_found = doc["drift_found"].get_int64();
  od::object drift = doc["drift"].get_object();
  for (auto kind : drift) {
    std::string kind_name(kind.unescaped_key().value());
    od::object lists = kind.value().get_object();
    for (auto field : lists) {
      std::string name(field.unescaped_key().value());
      if (name.find("_count") != std::string::npos) continue;
      auto& ids = out[kind_name][name];
      for (auto id : field.value().get_array())
        ids.insert(std::string(id.get_string().value()));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("backfill into an empty database yields the fake API's data", "[e2e]") {
  SyncStack stack;
  seed(stack.api().data(), 240, 12, 6);
  stack.start_worker();

  auto dry = stack.clerk_mirror({"backfill", "--dry-run"});
  INFO(dry.err);
  REQUIRE(dry.code == 0);
  CHECK_THAT(dry.out, Catch::Contains("240 users") && Catch::Contains("12 organizations") &&
                          Catch::Contains("72 memberships"));

  auto backfill = stack.clerk_mirror({"backfill"}, {{"CLERK_API_PAGE_SIZE", "50"}});
  INFO(backfill.err);
  REQUIRE(backfill.code == 0);
  CHECK_THAT(backfill.out,
             Catch::Contains("published 240 users, 12 organizations, 72 memberships"));
  // Not a terminal: progress comes as log lines.
  CHECK_THAT(backfill.err, Catch::Contains("phase finished"));
  require_mirror_equals(stack, stack.api().data());

  auto status = stack.clerk_mirror({"status"});
  CHECK(status.code == 0);
  CHECK_THAT(status.out, Catch::Contains("\"sync_runs\":[") &&
                             Catch::Contains("\"kind\":\"backfill\"") &&
                             Catch::Contains("\"status\":\"succeeded\""));

  // sync: one user changed at the source, fetched on demand.
  auto user = stack.api().data().users()[5];
  stack.api().data().update_user(user.id, now_ms());
  auto sync = stack.clerk_mirror({"sync", "user", user.id});
  INFO(sync.err);
  REQUIRE(sync.code == 0);
  require_mirror_equals(stack, stack.api().data(), 30s);
}

TEST_CASE("backfill racing newer webhooks: newer state wins, no deleted row comes back", "[e2e]") {
  SyncStack stack;
  FakeClerkData& data = stack.api().data();
  seed(data, 300, 10, 5);
  stack.start_worker();

  // What Clerk changes while the backfill runs. The API keeps serving the old
  // state until the run is over (as when an entity changes right after its page
  // was read), so the backfill publishes snapshots older than the webhooks, most
  // of them after the webhooks: the oldest users are on the last pages.
  auto users = data.users();
  auto orgs = data.organizations();
  std::vector<sync_test::Webhook> webhooks;
  std::vector<std::function<void()>> catch_up;
  std::int64_t at = now_ms();
  auto push = [&](std::string type, std::string key, const std::string& body, std::int64_t ts) {
    sync_test::Webhook w;
    w.type = std::move(type);
    w.key = std::move(key);
    w.body = sync_test::envelope(w.type, body, ts);
    w.id = "msg_race_" + std::to_string(webhooks.size());
    w.timestamp = ts;
    webhooks.push_back(std::move(w));
  };
  std::set<std::string> deleted_users;
  for (std::size_t i = users.size() - 60; i < users.size(); ++i) {
    sync_test::FakeUser u = users[i];
    if (i % 3 == 0) {
      deleted_users.insert(u.id);
      push("user.deleted", u.id, R"({"deleted":true,"id":")" + u.id + R"(","object":"user"})",
           ++at);
      catch_up.push_back([&data, id = u.id] { data.delete_user(id); });
    } else {
      u.updated_at = ++at;
      u.first_name = "Newer" + std::to_string(i);
      u.plan = "enterprise";
      push("user.updated", u.id, sync_test::user_json(u), u.updated_at);
      catch_up.push_back([&data, u] { data.put_user(u); });
    }
  }
  sync_test::FakeOrganization gone_org = orgs.back();
  push("organization.deleted", gone_org.id,
       R"({"deleted":true,"id":")" + gone_org.id + R"(","object":"organization"})", ++at);
  catch_up.push_back([&data, id = gone_org.id] { data.delete_organization(id); });
  sync_test::FakeOrganization renamed = orgs[orgs.size() - 2];
  renamed.updated_at = ++at;
  renamed.name = "Renamed early";
  push("organization.updated", renamed.id, sync_test::organization_json(renamed),
       renamed.updated_at);
  catch_up.push_back([&data, renamed] { data.put_organization(renamed); });

  // Slow pages, and the webhooks land right after the first page of users.
  stack.api().set_latency(15ms);
  stack.api().on_list([&](const std::string& path, int n) {
    if (path == "/v1/users" && n == 2) stack.publish_webhooks(webhooks);
  });
  auto snapshot_count = [&data] {
    return static_cast<std::int64_t>(data.users().size() + data.organizations().size() +
                                     data.memberships().size());
  };
  const std::int64_t first_snapshots = snapshot_count();
  auto backfill = stack.clerk_mirror({"backfill"}, {{"CLERK_API_PAGE_SIZE", "20"}});
  INFO(backfill.err);
  REQUIRE(backfill.code == 0);
  stack.api().on_list({});
  stack.api().set_latency(0ms);

  // The source now says what the webhooks said: the mirror must already say it too.
  for (auto& change : catch_up)
    change();
  require_mirror_equals(stack, data);
  {
    pqxx::connection c(stack.database_url());
    pqxx::work tx(c);
    // The version guard really had to refuse backfill snapshots older than the webhooks.
    CHECK(tx.exec("select count(*) from clerk.applied_events where source = 'backfill' "
                  "and outcome = 'stale'")[0][0]
              .as<int>() > 0);
    CHECK(
        tx.exec("select count(*) from clerk.users where deleted_at is not null")[0][0].as<int>() ==
        static_cast<int>(deleted_users.size()));
  }

  // A second backfill of the caught-up source changes nothing, once the worker
  // has consumed every snapshot it published.
  const auto applied_before = static_cast<std::int64_t>(webhooks.size()) + first_snapshots;
  REQUIRE(wait_until([&] { return stack.applied_events() >= applied_before; }, 60s, 300ms));
  auto again = stack.clerk_mirror({"backfill"});
  REQUIRE(again.code == 0);
  REQUIRE(wait_until([&] { return stack.applied_events() >= applied_before + snapshot_count(); },
                     60s, 300ms));
  require_mirror_equals(stack, data, 10s);
}

TEST_CASE(
    "reconcile after 1% of the webhooks were dropped reports exactly that drift and repairs it",
    "[e2e]") {
  SyncStack stack;
  FakeClerkData& data = stack.api().data();
  sync_test::WebhookHistory clerk(data);
  std::mt19937 random(5);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(random() % n); };
  std::vector<std::string> users, orgs, members;
  for (int i = 0; i < 350; ++i)
    users.push_back(clerk.create_user().id);
  for (int i = 0; i < 15; ++i)
    orgs.push_back(clerk.create_organization().id);
  for (int i = 0; i < 150; ++i)
    members.push_back(
        clerk.create_membership(orgs[pick(orgs.size())], users[pick(users.size())]).id);
  for (int i = 0; i < 280; ++i)
    clerk.update_user(users[pick(users.size())]);
  for (int i = 0; i < 15; ++i)
    clerk.update_organization(orgs[pick(orgs.size())]);
  for (int i = 0; i < 40; ++i) {
    const std::string& id = members[pick(members.size())];
    if (data.membership(id)) clerk.update_membership(id);
  }
  for (int i = 0; i < 25; ++i) {
    std::string id = users[pick(users.size())];
    if (data.user(id)) clerk.delete_user(id);
  }
  clerk.delete_organization(orgs[3]);
  clerk.delete_organization(orgs[9]);
  for (int i = 0; i < 15; ++i) {
    const std::string& id = members[pick(members.size())];
    if (data.membership(id)) clerk.delete_membership(id);
  }

  // Drop 1% of the webhooks: one whose loss leaves each kind of drift
  // (missing, stale, gone for users, organizations and memberships), then
  // every hundredth. Membership deletes that ride along with their user's or
  // organization's delete are never dropped: the worker ends those anyway.
  const auto& events = clerk.events();
  const std::size_t quota = events.size() / 100;
  REQUIRE(quota >= 9);
  auto last_for_entity = [&](std::size_t i) {
    for (std::size_t j = i + 1; j < events.size(); ++j)
      if (events[j].entity_id == events[i].entity_id) return false;
    return true;
  };
  auto alive_at_source = [&](const sync_test::Webhook& w) {
    if (w.type.rfind("user.", 0) == 0) return data.user(w.entity_id).has_value();
    if (w.type.rfind("organization.", 0) == 0) return data.organization(w.entity_id).has_value();
    return data.membership(w.entity_id).has_value();
  };
  std::set<std::size_t> dropped;
  for (const char* type :
       {"user.created", "user.updated", "user.deleted", "organization.created",
        "organization.updated", "organization.deleted", "organizationMembership.created",
        "organizationMembership.updated", "organizationMembership.deleted"}) {
    bool deletion = std::string(type).find(".deleted") != std::string::npos;
    for (std::size_t i = events.size() / 3; i < events.size(); ++i) {
      const auto& w = events[i];
      if (w.type != type || w.cascade || !last_for_entity(i)) continue;
      if (!deletion && !alive_at_source(w)) continue;
      dropped.insert(i);
      break;
    }
  }
  for (std::size_t i = 50; i < events.size() && dropped.size() < quota; i += 100) {
    if (!events[i].cascade) dropped.insert(i);
  }
  REQUIRE(dropped.size() == quota);
  std::vector<sync_test::Webhook> delivered;
  sync_test::MirrorModel model;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (dropped.count(i) > 0) continue;
    delivered.push_back(events[i]);
    model.apply(events[i]);
  }

  // The drift the model predicts: what reconcile must find, no more, no less.
  DriftIds expected;
  auto judge = [&](const std::string& family, const std::string& kind, const std::string& id,
                   std::int64_t updated_at) {
    auto& rows = model.rows[family];
    auto it = rows.find(id);
    if (it == rows.end()) {
      expected[kind]["missing"].insert(id);
    } else if (model.alive(family, id) && it->second.version < updated_at) {
      expected[kind]["stale"].insert(id);
    }
    // Alive at the source means never deleted: the mirror cannot hold it deleted.
    REQUIRE((it == rows.end() || model.alive(family, id)));
  };
  for (const auto& u : data.users())
    judge("user", "users", u.id, u.updated_at);
  for (const auto& o : data.organizations())
    judge("organization", "organizations", o.id, o.updated_at);
  for (const auto& m : data.memberships())
    judge("organizationMembership", "memberships", m.id, m.updated_at);
  for (const auto& [family, kind] : std::vector<std::pair<std::string, std::string>>{
           {"user", "users"},
           {"organization", "organizations"},
           {"organizationMembership", "memberships"}}) {
    for (const auto& [id, row] : std::map(model.rows[family])) {
      bool at_source = family == "user"           ? data.user(id).has_value()
                       : family == "organization" ? data.organization(id).has_value()
                                                  : data.membership(id).has_value();
      if (model.alive(family, id) && !at_source) expected[kind]["gone"].insert(id);
    }
  }
  std::int64_t expected_total = 0;
  for (const auto& [kind, lists] : expected)
    for (const auto& [name, ids] : lists)
      expected_total += static_cast<std::int64_t>(ids.size());
  for (const char* kind : {"users", "organizations", "memberships"})
    for (const char* list : {"missing", "stale", "gone"}) {
      INFO("the dropped webhooks leave " << kind << " " << list);
      CHECK(!expected[kind][list].empty());
    }

  stack.publish_webhooks(delivered);
  stack.start_worker();
  // No wait here: reconcile itself waits for the worker to apply what the topic
  // holds (RECONCILE_CATCH_UP_MS), or events still in Kafka would count as drift.

  auto dry =
      stack.clerk_mirror({"reconcile", "--dry-run", "--json"}, {{"CLERK_API_PAGE_SIZE", "40"}});
  INFO(dry.err);
  REQUIRE(dry.code == 0);
  std::int64_t found = -1;
  DriftIds reported = parse_drift(dry.out, found);
  CHECK(found == expected_total);
  for (const char* kind : {"users", "organizations", "memberships"}) {
    for (const char* list : {"missing", "stale", "gone"}) {
      INFO(kind << " " << list);
      CHECK(reported[kind][list] == expected[kind][list]);
    }
  }
  // A dry run changed nothing: it put no record on the topic (a publish returns
  // only once acknowledged, so any would be there by now), and the worker saw
  // only the webhooks.
  for (const auto& record : stack.topic_records(delivered.size()))
    CHECK(record.source == "webhook");
  CHECK(stack.applied_events() == static_cast<std::int64_t>(delivered.size()));

  // What the mirror holds of the memberships reconcile will end: they stay as they were.
  auto gone_members = [&] {
    pqxx::connection c(stack.database_url());
    pqxx::nontransaction n(c);
    std::map<std::string, std::string> out;
    for (const auto& id : expected["memberships"]["gone"]) {
      auto row = n.exec_params1(
          "select coalesce(role, '') || ' ' || coalesce(payload::text, '') || ' ' || "
          "(deleted_at is not null)::text from clerk.organization_memberships where id = $1",
          id);
      out[id] = row[0].as<std::string>();
    }
    return out;
  };
  auto before_fix = gone_members();

  auto fix = stack.clerk_mirror({"reconcile"});
  INFO(fix.err);
  REQUIRE(fix.code == 0);
  CHECK_THAT(fix.out, Catch::Contains(std::to_string(expected_total) + " drifted"));
  require_mirror_equals(stack, data);
  auto after_fix = gone_members();
  for (const auto& [id, was] : before_fix) {
    INFO(id);
    REQUIRE(was.ends_with(" false"));
    CHECK(after_fix[id] == was.substr(0, was.size() - 5) + "true");  // ended, data kept
  }

  auto after = stack.clerk_mirror({"reconcile", "--dry-run", "--json"});
  REQUIRE(after.code == 0);
  parse_drift(after.out, found);
  CHECK(found == 0);
}

TEST_CASE(
    "a backfill stopped, or killed with kill -9, resumes without re-publishing everything and "
    "honours Retry-After",
    "[e2e]") {
  SyncStack stack;
  constexpr int kUsers = 800;
  constexpr int kPage = 20;
  seed(stack.api().data(), kUsers, 0, 0);
  // Migrations only; no worker is needed to look at the topic.
  REQUIRE(stack.clerk_mirror({"migrate"}).code == 0);
  stack.api().set_latency(25ms);

  const std::map<std::string, std::string> pages{{"CLERK_API_PAGE_SIZE", std::to_string(kPage)}};

  // SIGTERM: the run stops at once, says so, and keeps its checkpoint.
  auto stopped = stack.start({"backfill", "--users"}, pages);
  REQUIRE(wait_until([&] { return stack.api().list_requests() >= 5 || !stopped->running(); }, 60s,
                     10ms));
  stopped->signal(SIGTERM);
  REQUIRE(stopped->wait_for(10s));
  CHECK(stopped->wait() == 130);
  CHECK_THAT(stopped->out(), Catch::Contains("interrupted"));

  // kill -9: nothing gets a chance to clean up; the checkpoint is all there is.
  auto killed = stack.start({"backfill", "--users"}, pages);
  REQUIRE(wait_until([&] { return stack.api().list_requests() >= 15 || !killed->running(); }, 60s,
                     10ms));
  killed->signal(SIGKILL);
  CHECK(killed->wait() == 128 + SIGKILL);
  REQUIRE(stack.api().list_requests() < kUsers / kPage);

  // The restarted run is throttled once: nothing may reach the API before the pause ends.
  stack.api().set_latency(0ms);
  stack.api().inject({"/v1/users", 429, "1", 1});
  auto last = stack.clerk_mirror({"backfill", "--users"}, pages);
  INFO(last.err);
  REQUIRE(last.code == 0);
  CHECK_THAT(last.out, Catch::Contains("resumed from run 2"));

  auto log = stack.api().requests();
  auto throttled =
      std::find_if(log.begin(), log.end(), [](const auto& r) { return r.status == 429; });
  REQUIRE(throttled != log.end());
  // The log is in the order the answers were sent, and the killed run's last request
  // may still have been sleeping in the fake's latency when the 429 went out: what
  // counts is the first request that arrived after the throttled one.
  std::optional<std::chrono::steady_clock::time_point> next_arrival;
  for (const auto& r : log) {
    if (r.at > throttled->at && (!next_arrival || r.at < *next_arrival)) next_arrival = r.at;
  }
  REQUIRE(next_arrival);
  CHECK(*next_arrival - throttled->at >= 1000ms);

  auto records = stack.topic_records(kUsers);
  std::set<std::string> ids;
  std::size_t backfill_records = 0;
  for (const auto& r : records) {
    if (r.source != "backfill") continue;
    ++backfill_records;
    ids.insert(r.key);
  }
  CHECK(ids.size() == kUsers);
  // At most the page in flight when each run stopped is published twice.
  CHECK(backfill_records <= kUsers + 2 * kPage);
  CHECK(backfill_records >= kUsers);

  auto status = stack.clerk_mirror({"status"});
  CHECK_THAT(status.out, Catch::Contains("\"status\":\"interrupted\"") &&
                             Catch::Contains("\"resumed_from\":1") &&
                             Catch::Contains("\"resumed_from\":2"));
}
