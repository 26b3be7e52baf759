#include "common/events/entity_decoder.hpp"

#include <catch2/catch.hpp>

#include "common/events/event_contract.hpp"
#include "worker/support/clerk_events.hpp"

using namespace common::events;

TEST_CASE("user.created decodes scalars and the primary email", "[unit]") {
  EntityDecoder decoder;
  auto json = worker_test::envelope(
      "user.created", worker_test::user_data("user_1", 1700000000123, "Ada", "ada@example.org"),
      1700000000456);
  auto r = decoder.decode(json);
  REQUIRE(r.status == DecodeStatus::kDecoded);
  CHECK(r.event.route == EventRoute{EntityKind::kUser, EventAction::kUpsert});
  CHECK(r.event.entity_id == "user_1");
  CHECK(r.event.timestamp_ms == 1700000000456);
  const auto& f = std::get<UserFields>(r.event.fields);
  CHECK(f.first_name == "Ada");
  CHECK(f.last_name == "Example");
  CHECK_FALSE(f.username.has_value());
  CHECK(f.updated_at_ms == 1700000000123);
  CHECK(f.primary_email_address == "ada@example.org");
  CHECK(f.banned == false);
  CHECK(r.event.updated_at_ms() == 1700000000123);
  CHECK(r.event.data_json.find("\"email_addresses\"") != std::string::npos);
  CHECK(r.event.data_json.front() == '{');
}

TEST_CASE("deletions carry only the id; membership deletions keep the membership", "[unit]") {
  EntityDecoder decoder;
  auto user = decoder.decode(worker_test::envelope(
      "user.deleted", worker_test::deleted_data("user_9", "user"), 1700000000000));
  REQUIRE(user.status == DecodeStatus::kDecoded);
  CHECK(user.event.route.action == EventAction::kDelete);
  CHECK(std::holds_alternative<std::monostate>(user.event.fields));
  CHECK(user.event.data_json.empty());

  auto membership = decoder.decode(worker_test::envelope(
      "organizationMembership.deleted",
      worker_test::membership_data("orgmem_1", "org_1", "user_1", 1700000000000, "org:admin"),
      1700000001000));
  REQUIRE(membership.status == DecodeStatus::kDecoded);
  const auto& m = std::get<MembershipFields>(membership.event.fields);
  CHECK(m.organization_id == "org_1");
  CHECK(m.user_id == "user_1");
  CHECK(m.role == "org:admin");
}

TEST_CASE("routing is on type, never on data.object; unknown types are ignored", "[unit]") {
  EntityDecoder decoder;
  // session.created embeds a full user object: still not a user event.
  auto session = decoder.decode(worker_test::envelope(
      "session.created", worker_test::user_data("user_1", 1, "x"), 1700000000000));
  CHECK(session.status == DecodeStatus::kIgnored);
  CHECK(session.type == "session.created");
  CHECK(decoder.decode(R"({"type":"email.created","data":{"user_id":null}})").status ==
        DecodeStatus::kIgnored);
  CHECK(route_event_type("organizationInvitation.created") == std::nullopt);
}

TEST_CASE("malformed envelopes and payloads are reported, never thrown", "[unit]") {
  EntityDecoder decoder;
  for (const char* body :
       {"", "not json", "[]", R"({"type":1,"data":{}})", R"({"type":"user.created","data":[]})",
        R"({"type":"user.created","data":{"id":""}})",
        R"({"type":"user.created","data":{"id":"user_1","first_name":3}})",
        R"({"type":"user.created","data":{"id":"u\u0001"}})",
        R"({"type":"organizationMembership.created","data":{"id":"m"}})",
        R"({"type":"user.created","timestamp":"x","data":{"id":"u"}})",
        R"({"type":"user.updated","data":{"id":"u","updated_at":-5}})"}) {
    INFO(body);
    auto r = decoder.decode(body);
    CHECK(r.status == DecodeStatus::kMalformed);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("timestamps in seconds are read as milliseconds", "[unit]") {
  CHECK(epoch_ms(1700000000) == 1700000000000);
  CHECK(epoch_ms(1700000000123) == 1700000000123);
  CHECK(epoch_ms(99'999'999'999) == 99'999'999'999'000);
  CHECK(epoch_ms(100'000'000'000) == 100'000'000'000);
  CHECK_FALSE(epoch_ms(-1));
  EntityDecoder decoder;
  // An event's own timestamp in seconds stands for the end of its second.
  CHECK(event_time_ms(1700000000) == 1700000000999);
  CHECK(event_time_ms(1700000000123) == 1700000000123);
  CHECK(event_time_ms(0) == 0);
  CHECK_FALSE(event_time_ms(-1));
  auto r = decoder.decode(R"({"type":"user.deleted","timestamp":1700000000,"data":{"id":"u"}})");
  REQUIRE(r.status == DecodeStatus::kDecoded);
  CHECK(r.event.timestamp_ms == 1700000000999);
  // data.updated_at stays as it is: milliseconds are exact, seconds their start.
  auto u = decoder.decode(
      R"({"type":"user.updated","timestamp":1700000001,"data":{"id":"u","updated_at":1700000000}})");
  REQUIRE(u.status == DecodeStatus::kDecoded);
  CHECK(u.event.updated_at_ms() == 1700000000000);
}

TEST_CASE("unknown keys are kept in the payload", "[unit]") {
  EntityDecoder decoder;
  auto r = decoder.decode(
      R"({"type":"organization.updated","timestamp":1,"data":{"id":"org_1","name":"A","brand_new_field":{"x":[1,2]},"updated_at":1700000000000}})");
  REQUIRE(r.status == DecodeStatus::kDecoded);
  CHECK(r.event.data_json.find("\"brand_new_field\":{\"x\":[1,2]}") != std::string::npos);
  CHECK(std::get<OrganizationFields>(r.event.fields).name == "A");
}
