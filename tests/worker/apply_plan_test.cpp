#include "worker/apply/apply_plan.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <numeric>
#include <set>

#include "common/events/event_contract.hpp"
#include "worker/apply/inbound_event.hpp"
#include "worker/store/store_error.hpp"
#include "worker/support/clerk_events.hpp"

using namespace worker::apply;

namespace {

common::events::EntityDecoder& decoder() {
  static common::events::EntityDecoder instance;
  return instance;
}

InboundEvent make(const std::string& event_id, const std::string& json, std::int64_t offset = 0,
                  const std::string& topic = "clerk.events") {
  common::kafka::ConsumedRecord record;
  record.topic = topic;
  record.partition = 0;
  record.offset = offset;
  record.value = json;
  record.headers.push_back({"event-id", event_id});
  return read_inbound(std::move(record), decoder());
}

InboundEvent user_update(const std::string& event_id, const std::string& user,
                         std::int64_t updated_at, std::int64_t ts, const std::string& name) {
  return make(event_id, worker_test::envelope("user.updated",
                                              worker_test::user_data(user, updated_at, name), ts));
}

InboundEvent user_delete(const std::string& event_id, const std::string& user, std::int64_t ts) {
  return make(event_id,
              worker_test::envelope("user.deleted", worker_test::deleted_data(user, "user"), ts));
}

}  // namespace

TEST_CASE("the total order is version, then event timestamp, then event id bytewise", "[unit]") {
  CHECK(OrderKey{1, 9, "z"} < OrderKey{2, 0, "a"});
  CHECK(OrderKey{1, 1, "z"} < OrderKey{1, 2, "a"});
  CHECK(OrderKey{1, 1, "a"} < OrderKey{1, 1, "b"});
  CHECK(OrderKey{1, 1, "B"} < OrderKey{1, 1, "a"});         // bytewise, like COLLATE "C"
  CHECK(OrderKey{1, 1, "a"} < OrderKey{1, 1, "\xc3\xa9"});  // UTF-8 bytes above ASCII
  CHECK(OrderKey{1, 1, "a"} == OrderKey{1, 1, "a"});
}

TEST_CASE("an upsert's version is updated_at, a delete's is the envelope timestamp", "[unit]") {
  auto up = user_update("e1", "user_1", 1000, 5000, "A");
  REQUIRE(up.status == InboundStatus::kMirrored);
  // Seconds -> ms: updated_at from the start of its second, the event's own time
  // from its end.
  CHECK(up.fields_key() == OrderKey{1000 * 1000, 5000 * 1000 + 999, "e1"});
  auto del = user_delete("e2", "user_1", 1700000000500);
  CHECK(del.deletion_key() == OrderKey{1700000000500, 1700000000500, "e2"});
  CHECK(del.is_delete());
  CHECK_FALSE(del.has_fields());
}

TEST_CASE("inbound events read the contract headers and refuse what SQL cannot use", "[unit]") {
  common::kafka::ConsumedRecord record;
  record.topic = "clerk.events.retry.2";
  record.partition = 3;
  record.offset = 42;
  record.value =
      worker_test::envelope("user.deleted", worker_test::deleted_data("u", "user"), std::nullopt);
  record.headers = {{"event-timestamp", "1700000000999"},
                    {"attempt", "2"},
                    {"not-before", "123"},
                    {"source", "backfill"}};
  auto e = read_inbound(record, decoder());
  REQUIRE(e.status == InboundStatus::kMirrored);
  CHECK(e.event_id == "kafka:clerk.events.retry.2:3:42");  // synthesised: no event-id header
  CHECK(e.event_ts_ms == 1700000000999);                   // header fallback
  CHECK(e.attempt == 2);
  CHECK(e.not_before_ms == 123);
  CHECK(e.source == "backfill");

  record.headers = {};  // a deletion without any timestamp has no version
  CHECK(read_inbound(record, decoder()).status == InboundStatus::kMalformed);
  record.headers = {{"event-id", std::string("bad\0id", 6)}, {"event-timestamp", "1"}};
  CHECK(read_inbound(record, decoder()).status == InboundStatus::kMalformed);
  CHECK(printable_utf8("caf\xc3\xa9"));
  CHECK_FALSE(printable_utf8("\xc3"));
  CHECK_FALSE(printable_utf8("\xed\xa0\x80"));  // surrogate
  CHECK_FALSE(printable_utf8("\xc0\xaf"));      // overlong
}

TEST_CASE("planning keeps one winner per entity and half, in any input order", "[unit]") {
  std::vector<InboundEvent> events{
      user_update("e1", "user_1", 1700000000100, 1700000000100, "old"),
      user_update("e2", "user_1", 1700000000300, 1700000000300, "new"),
      user_update("e3", "user_1", 1700000000200, 1700000000200, "mid"),
      user_delete("e4", "user_1", 1700000000250),
      user_delete("e5", "user_1", 1700000000150),
      user_update("e6", "user_2", 1700000000100, 1700000000100, "other"),
  };
  std::vector<std::size_t> all{0, 1, 2, 3, 4, 5};
  for (int round = 0; round < 6; ++round) {
    std::rotate(all.begin(), all.begin() + 1, all.end());
    auto plan = plan_effects(events, all);
    REQUIRE(plan.user_fields.size() == 2);
    CHECK(plan.user_fields[0] == 1);  // user_1: e2, the greatest updated_at
    CHECK(plan.user_fields[1] == 5);  // user_2
    REQUIRE(plan.user_deletions.size() == 1);
    CHECK(plan.user_deletions[0] == 3);  // e4
    CHECK(plan.deletes_parents());
    CHECK_FALSE(plan.writes_memberships());
  }
}

TEST_CASE("ties on version and timestamp are broken by the event id", "[unit]") {
  std::vector<InboundEvent> events{
      user_update("evt_b", "user_1", 1700000000100, 1700000000100, "b"),
      user_update("evt_a", "user_1", 1700000000100, 1700000000100, "a"),
  };
  std::vector<std::size_t> all{0, 1};
  CHECK(plan_effects(events, all).user_fields == std::vector<std::size_t>{0});
}

TEST_CASE("triage settles duplicates and ignored types, sets malformed aside", "[unit]") {
  std::vector<InboundEvent> events{
      user_update("e1", "user_1", 1700000000100, 1700000000100, "a"),
      user_update("e1", "user_1", 1700000000100, 1700000000100, "a"),  // redelivery
      user_update("e2", "user_1", 1700000000200, 1700000000200, "b"),  // known in the audit
      make("e3", R"({"type":"session.created","data":{"id":"sess_1"}})"),
      make("e4", "{broken"),
  };
  auto ids = lookup_ids(events);
  CHECK(ids == std::vector<std::string>{"e1", "e2"});
  auto t = triage(events, {"e2"});
  CHECK(t.candidates == std::vector<std::size_t>{0});
  CHECK(t.settled[1] == Outcome::kDuplicate);
  CHECK(t.settled[2] == Outcome::kDuplicate);
  CHECK(t.settled[3] == Outcome::kIgnored);
  CHECK(t.malformed == std::vector<std::size_t>{4});
}

TEST_CASE("isolation finds the events that fail on their own and applies the rest", "[unit]") {
  std::vector<InboundEvent> events;
  for (int i = 0; i < 40; ++i) {
    events.push_back(user_update("e" + std::to_string(i), "user_" + std::to_string(i % 13),
                                 1700000000000 + i, 1700000000000 + i, "n"));
  }
  std::vector<std::size_t> all(events.size());
  std::iota(all.begin(), all.end(), 0);
  std::set<std::size_t> poison{7, 31};
  int calls = 0;
  auto result = apply_isolating(
      events, all,
      [&](const EffectPlan& plan) {
        ++calls;
        for (auto i : plan.user_fields) {
          if (poison.contains(i)) {
            throw worker::store::StoreError(worker::store::StoreFailure::kStatement, "22P05",
                                            "bad");
          }
        }
        return plan.user_fields;
      },
      [](std::exception_ptr) {
        return std::optional<EventFailure>(EventFailure{"database", "bad"});
      });
  std::set<std::size_t> failed;
  for (const auto& [i, f] : result.failed)
    failed.insert(i);
  CHECK(failed == poison);
  // Every user gets its newest non-poisoned update.
  std::map<std::string, std::size_t> newest;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!poison.contains(i)) newest[events[i].decoded.entity_id] = i;
  }
  for (const auto& [user, i] : newest) {
    INFO(user);
    CHECK(std::find(result.landed.begin(), result.landed.end(), i) != result.landed.end());
  }
  CHECK(calls < 40);

  // A transient failure is not isolated: it propagates.
  CHECK_THROWS_AS(apply_isolating(
                      events, all,
                      [](const EffectPlan&) -> std::vector<std::size_t> {
                        throw worker::store::StoreError(
                            worker::store::StoreFailure::kConnectionLost, "", "gone");
                      },
                      [](std::exception_ptr) { return std::optional<EventFailure>(); }),
                  worker::store::StoreError);
}
