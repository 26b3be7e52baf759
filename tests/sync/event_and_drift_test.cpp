#include <catch2/catch.hpp>

#include "common/events/envelope_codec.hpp"
#include "support/fake_clerk_data.hpp"
#include "worker/sync/clerk_response_decoder.hpp"
#include "worker/sync/drift.hpp"
#include "worker/sync/sync_event.hpp"

using namespace worker::sync;
using common::events::Source;

TEST_CASE("list bodies decode into entities that keep their exact JSON", "[unit]") {
  sync_test::FakeClerkData data;
  auto user = data.add_user("Ada");
  auto org = data.add_organization();
  auto member = data.add_membership(org.id, user.id, "org:admin");

  ApiPage users = clerk_response::decode_array(data.users_page(10, 0), EntityKind::kUser);
  REQUIRE(users.items.size() == 1);
  CHECK(users.items[0].id == user.id);
  CHECK(users.items[0].created_at_ms == user.created_at);
  CHECK(users.items[0].updated_at_ms == user.updated_at);
  CHECK(users.items[0].raw_json == sync_test::user_json(user));
  CHECK_FALSE(users.total_count.has_value());

  ApiPage orgs =
      clerk_response::decode_paginated(data.organizations_page(10, 0), EntityKind::kOrganization);
  REQUIRE(orgs.items.size() == 1);
  CHECK(orgs.total_count == 1);

  ApiPage members = clerk_response::decode_paginated(*data.memberships_page(org.id, 10, 0),
                                                     EntityKind::kMembership);
  REQUIRE(members.items.size() == 1);
  CHECK(members.items[0].id == member.id);
  CHECK(members.items[0].organization_id == org.id);
  CHECK(members.items[0].user_id == user.id);

  CHECK(clerk_response::decode_total_count(data.users_count()) == 1);
  CHECK(clerk_response::decode_entity(*data.user_body(user.id), EntityKind::kUser).id == user.id);
}

TEST_CASE("bodies of the wrong shape are refused with the reason", "[unit]") {
  CHECK_THROWS_AS(clerk_response::decode_array("{\"data\":[]}", EntityKind::kUser), DecodeError);
  CHECK_THROWS_WITH(
      clerk_response::decode_array(R"([{"id":"u","created_at":1}])", EntityKind::kUser),
      Catch::Contains("updated_at"));
  CHECK_THROWS_WITH(clerk_response::decode_paginated(
                        R"({"data":[{"id":"m","created_at":1,"updated_at":2}],"total_count":1})",
                        EntityKind::kMembership),
                    Catch::Contains("organization"));
  CHECK_THROWS_AS(clerk_response::decode_paginated("[", EntityKind::kOrganization), DecodeError);
}

TEST_CASE("a snapshot is a webhook-shaped envelope the ingress codec accepts", "[unit]") {
  sync_test::FakeClerkData data;
  auto user = data.add_user();
  auto org = data.add_organization();
  auto member = data.add_membership(org.id, user.id);
  ApiEntity entity = clerk_response::decode_paginated(*data.memberships_page(org.id, 1, 0),
                                                      EntityKind::kMembership)
                         .items.at(0);
  auto record = sync_event::snapshot(EntityKind::kMembership, entity, Source::kBackfill, 7, 99);
  CHECK(record.key == org.id);  // memberships are keyed by their organization
  CHECK(record.value == "{\"data\":" + entity.raw_json +
                            ",\"object\":\"event\",\"type\":\"organizationMembership.updated\","
                            "\"timestamp\":" +
                            std::to_string(member.updated_at) + "}");
  auto header = [&](std::string_view name) {
    return common::kafka::find_header(record.headers, name)->value;
  };
  CHECK(header("source") == "backfill");
  CHECK(header("event-type") == "organizationMembership.updated");
  CHECK(header("event-timestamp") == std::to_string(member.updated_at));
  CHECK(header("received-at") == "99");
  CHECK(header("event-id") == "backfill_7_" + member.id + "_" + std::to_string(member.updated_at));

  common::events::EnvelopeCodec codec;
  auto decoded = codec.decode(record.value);
  REQUIRE(decoded.ok());
  CHECK(decoded.facts.type == "organizationMembership.updated");
  CHECK(decoded.facts.timestamp_ms == member.updated_at);
}

TEST_CASE("deletes are shaped like Clerk's and timestamped now", "[unit]") {
  MirrorRow row{"user_9", 100, 200, false, "", "", "", ""};
  auto record = sync_event::deletion(EntityKind::kUser, row, Source::kReconcile, 3, 5000);
  CHECK(record.key == "user_9");
  CHECK(
      record.value ==
      R"({"data":{"deleted":true,"id":"user_9","object":"user"},"object":"event","type":"user.deleted","timestamp":5000})");
  MirrorRow m{"orgmem_1", 100, 200, false, "org_1", "user_1", "org:member", ""};
  auto member = sync_event::deletion(EntityKind::kMembership, m, Source::kReconcile, 3, 5000);
  CHECK(member.key == "org_1");
  CHECK_THAT(member.value, Catch::Contains(R"("type":"organizationMembership.deleted")"));
  CHECK_THAT(member.value, Catch::Contains(R"("public_user_data":{"user_id":"user_1"})"));
  common::events::EnvelopeCodec codec;
  CHECK(codec.decode(member.value).ok());
  CHECK(codec.decode(record.value).ok());
  // A clock behind Clerk's: the deletion still comes after the row's version.
  MirrorRow ahead{"user_8", 100, 9000, false, "", "", "", ""};
  auto late = sync_event::deletion(EntityKind::kUser, ahead, Source::kReconcile, 3, 5000);
  CHECK_THAT(late.value, Catch::EndsWith(R"("timestamp":9001})"));
  // With the row's stored data, the deletion carries it as it was, like Clerk's own.
  m.payload =
      R"({"id":"orgmem_1","role":"org:admin","public_metadata":{"k":1},"organization":{"id":"org_1"},"public_user_data":{"user_id":"user_1"},"updated_at":200})";
  auto full = sync_event::deletion(EntityKind::kMembership, m, Source::kReconcile, 3, 5000);
  CHECK_THAT(full.value, Catch::StartsWith(R"({"data":)" + m.payload + ","));
  CHECK(codec.decode(full.value).ok());
}

TEST_CASE("drift: missing, stale, and gone only when created before the run", "[unit]") {
  std::vector<ApiEntity> source = {{"a", 1, 10, "", "", "{}"},
                                   {"b", 1, 20, "", "", "{}"},
                                   {"c", 1, 30, "", "", "{}"},
                                   {"d", 1, 40, "", "", "{}"}};
  std::unordered_map<std::string, MirrorRow> mirror = {
      {"b", {"b", 1, 20, false, "", "", ""}},  // equal: fine
      {"c", {"c", 1, 25, false, "", "", ""}},  // older: stale
      {"d", {"d", 1, 10, true, "", "", ""}},   // deleted in the mirror: never drift
  };
  EntityDrift drift;
  auto fixes = compare_with_mirror(source, mirror, drift);
  CHECK(fixes == std::vector<std::size_t>{0, 2});
  CHECK(drift.missing == std::set<std::string>{"a"});
  CHECK(drift.stale == std::set<std::string>{"c"});

  DriftReport report{{EntityKind::kUser, drift}};
  CHECK(
      drift_json(report) ==
      R"({"users":{"missing_count":1,"stale_count":1,"gone_count":0,"missing":["a"],"stale":["c"],"gone":[]}})");
  CHECK(
      drift_json(report, 0) ==
      R"({"users":{"missing_count":1,"stale_count":1,"gone_count":0,"missing":[],"stale":[],"gone":[]}})");
}
