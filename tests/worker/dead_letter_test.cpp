// Dead letters read back from <topic>.dlq: their JSON line for `clerk-mirror dlq
// list` and the record `clerk-mirror dlq replay` publishes.
#include "worker/retry/dead_letter.hpp"

#include <catch2/catch.hpp>

#include "common/events/entity_decoder.hpp"
#include "common/kafka/kafka_record.hpp"
#include "worker/apply/inbound_event.hpp"
#include "worker/retry/failure_copy.hpp"

using namespace worker::retry;
using common::kafka::ConsumedRecord;
using common::kafka::Header;

namespace {

const std::string kValue =
    R"({"type":"user.updated","data":{"id":"user_1","first_name":"Zoë"},"timestamp":1700000000000})";

// A record as the ingress publishes it, consumed from the main topic.
ConsumedRecord original() {
  ConsumedRecord r;
  r.topic = "clerk.events";
  r.partition = 2;
  r.offset = 77;
  r.timestamp_ms = 1700000000500;
  r.key = "user_1";
  r.value = kValue;
  r.headers = {{"event-id", "msg_1"},
               {"event-type", "user.updated"},
               {"event-timestamp", "1700000000000"},
               {"svix-timestamp", "1700000001"},
               {"source", "webhook"},
               {"received-at", "1700000000500"}};
  return r;
}

// What the worker wrote to the dead-letter topic for `event`, as read back from it.
ConsumedRecord dead_letter_of(const worker::apply::InboundEvent& event, const std::string& error,
                              std::int32_t partition, std::int64_t offset) {
  auto copy = failure_copy(event, "clerk.events", {0, 0}, {"database", error}, "host-1:42");
  ConsumedRecord r;
  r.topic = copy.topic;
  r.partition = partition;
  r.offset = offset;
  r.timestamp_ms = 1700000009000;
  r.key = copy.key;
  r.value = copy.value;
  r.headers = copy.headers;
  return r;
}

// Consumed from `<topic>.retry.2` (attempt 2) and given up on: the third attempt.
ConsumedRecord poison_dead_letter(const std::string& error) {
  common::events::EntityDecoder decoder;
  auto retry_copy = failure_copy(worker::apply::read_inbound(original(), decoder), "clerk.events",
                                 {2, 1700000005000}, {"database", "earlier"}, "host-0:7");
  ConsumedRecord retried;
  retried.topic = retry_copy.topic;
  retried.partition = 2;
  retried.offset = 3;
  retried.key = retry_copy.key;
  retried.value = retry_copy.value;
  retried.headers = retry_copy.headers;
  return dead_letter_of(worker::apply::read_inbound(retried, decoder), error, 1, 5);
}

}  // namespace

TEST_CASE("a dead letter lists as one JSON line saying what, why and where from", "[unit]") {
  auto dead = poison_dead_letter("P0001: injected \"fault\"\nline two");
  CHECK(dead_letter_json(dead) ==
        R"({"dlq_partition":1,"dlq_offset":5,"dead_lettered_at":1700000009000,)"
        R"("event_id":"msg_1","event_type":"user.updated","event_timestamp":1700000000000,)"
        R"("key":"user_1","source":"webhook","error_class":"database",)"
        R"("error_message":"P0001: injected \"fault\"\nline two","original_topic":"clerk.events",)"
        R"("original_partition":2,"original_offset":77,"original_timestamp":1700000000500,)"
        R"("attempt":3,"worker":"host-1:42","value_bytes":)" +
            std::to_string(kValue.size()) + "}");
}

TEST_CASE("absent headers list as null, odd ones as text, odd bytes as U+FFFD", "[unit]") {
  ConsumedRecord r;
  r.topic = "clerk.events.dlq";
  r.partition = 0;
  r.offset = 9;
  r.timestamp_ms = -1;
  r.key = std::string("user_\xff\x01", 7);
  r.value = "not json";
  r.headers = {{"error-class", "malformed"}, {"error-message", "truncated \xe2\x82"},
               {"attempt", "three"},         {"original-topic", "clerk.events"},
               {"original-partition", "4"},  {"original-offset", "12"}};
  CHECK(dead_letter_json(r) ==
        R"({"dlq_partition":0,"dlq_offset":9,"dead_lettered_at":null,)"
        R"("event_id":"kafka:clerk.events:4:12","event_type":null,"event_timestamp":null,)"
        R"("key":"user_)"
        "\xEF\xBF\xBD"
        R"(\u0001","source":null,"error_class":"malformed",)"
        R"("error_message":"truncated )"
        "\xEF\xBF\xBD\xEF\xBF\xBD"
        R"(","original_topic":"clerk.events","original_partition":4,"original_offset":12,)"
        R"("original_timestamp":null,"attempt":"three","worker":null,"value_bytes":8})");
  // Replayed, it carries that id from now on; its bytes travel untouched.
  auto replay = replay_record(r, "clerk.events");
  CHECK(replay.key == *r.key);
  CHECK(replay.value == "not json");
  REQUIRE(replay.headers.size() == 1);
  CHECK(replay.headers[0].name == "event-id");
  CHECK(replay.headers[0].value == "kafka:clerk.events:4:12");

  ConsumedRecord bare;
  bare.topic = "clerk.events.dlq";
  bare.partition = 3;
  bare.offset = 1;
  CHECK(dead_letter_event_id(bare) == "kafka:clerk.events.dlq:3:1");
  CHECK(dead_letter_json(bare).find(R"("key":null)") != std::string::npos);
  CHECK(dead_letter_json(bare).find(R"("value_bytes":0})") != std::string::npos);
}

TEST_CASE("a replay is the original record: same key, value and contract headers", "[unit]") {
  auto dead = poison_dead_letter("P0001: injected");
  auto replay = replay_record(dead, "clerk.events");
  CHECK(replay.topic == "clerk.events");
  CHECK(replay.key == "user_1");
  CHECK(replay.value == kValue);
  CHECK_FALSE(replay.partition.has_value());  // by key, like every producer
  CHECK(replay.timestamp_ms == 0);
  auto expected = original().headers;
  REQUIRE(replay.headers.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(expected[i].name);
    CHECK(replay.headers[i].name == expected[i].name);
    CHECK(replay.headers[i].value == expected[i].value);
  }

  // The worker reads it as a first attempt of the same event.
  common::events::EntityDecoder decoder;
  ConsumedRecord consumed;
  consumed.topic = replay.topic;
  consumed.partition = 0;
  consumed.offset = 100;
  consumed.key = replay.key;
  consumed.value = replay.value;
  consumed.headers = replay.headers;
  auto event = worker::apply::read_inbound(consumed, decoder);
  CHECK(event.status == worker::apply::InboundStatus::kMirrored);
  CHECK(event.event_id == "msg_1");
  CHECK(event.attempt == 0);
  CHECK_FALSE(event.not_before_ms.has_value());
}

TEST_CASE("a replay keeps the identity the worker gave a record without an event id", "[unit]") {
  common::events::EntityDecoder decoder;
  auto record = original();
  record.headers = {{"source", "webhook"}};
  auto event = worker::apply::read_inbound(record, decoder);
  REQUIRE(event.event_id == "kafka:clerk.events:2:77");
  auto dead = dead_letter_of(event, "22P05: bad", 0, 0);
  CHECK(dead_letter_event_id(dead) == "kafka:clerk.events:2:77");

  auto replay = replay_record(dead, "clerk.events");
  REQUIRE(replay.headers.size() == 2);
  CHECK(replay.headers[0].name == "source");
  CHECK(replay.headers[1].name == "event-id");
  CHECK(replay.headers[1].value == "kafka:clerk.events:2:77");

  // A dead letter of a keyless record replays with an empty key, as it was copied.
  dead.key.reset();
  CHECK(replay_record(dead, "clerk.events").key.empty());
}

TEST_CASE("the failure headers are exactly the ones retry and dead-letter copies add", "[unit]") {
  for (const char* name :
       {"attempt", "not-before", "error-class", "error-message", "worker", "original-topic",
        "original-partition", "original-offset", "original-timestamp"}) {
    INFO(name);
    CHECK(is_failure_header(name));
  }
  for (const char* name : {"event-id", "event-type", "event-timestamp", "svix-timestamp", "source",
                           "received-at", "traceparent", "Attempt"}) {
    INFO(name);
    CHECK_FALSE(is_failure_header(name));
  }
}
