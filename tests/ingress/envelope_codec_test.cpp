// common/events: strict envelope validation and the Kafka key per event type.
#include "common/events/envelope_codec.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "common/events/event_key.hpp"

using namespace common::events;

namespace {

EnvelopeError error_of(std::string_view body) {
  static const EnvelopeCodec codec;
  return codec.decode(body).error;
}

// A document whose deepest value is at `depth` (the root object is depth 1, data 2).
std::string nested(int depth) {
  std::size_t arrays = depth > 3 ? static_cast<std::size_t>(depth - 3) : 0;
  std::string inner = std::string(arrays, '[') + "{}" + std::string(arrays, ']');
  return "{\"type\":\"user.created\",\"data\":{\"x\":" + inner + "}}";
}

}  // namespace

TEST_CASE("a Clerk envelope decodes to its facts", "[unit][events]") {
  EnvelopeCodec codec;
  auto result = codec.decode(
      R"({"data":{"id":"orgmem_1","organization":{"id":"org_9","name":"A"},)"
      R"("public_user_data":{"user_id":"user_3"}},"object":"event",)"
      R"("type":"organizationMembership.created","timestamp":1700000000123,)"
      R"("instance_id":"ins_1","event_attributes":{"http_request":{"client_ip":""}}})");
  REQUIRE(result.ok());
  CHECK(result.facts.type == "organizationMembership.created");
  CHECK(result.facts.timestamp_ms == 1700000000123);
  CHECK(result.facts.data_id == "orgmem_1");
  CHECK(result.facts.data_organization_id == "org_9");
  CHECK_FALSE(result.facts.data_user_id);
}

TEST_CASE("envelope timestamps are normalised to milliseconds", "[unit][events]") {
  EnvelopeCodec codec;
  auto seconds = codec.decode(R"({"type":"user.created","data":{},"timestamp":1700000000})");
  CHECK(seconds.facts.timestamp_ms == 1700000000000);
  auto millis = codec.decode(R"({"type":"user.created","data":{},"timestamp":1700000000000})");
  CHECK(millis.facts.timestamp_ms == 1700000000000);
  auto fractional = codec.decode(R"({"type":"user.created","data":{},"timestamp":1700000000.5})");
  CHECK(fractional.facts.timestamp_ms == 1700000000000);
  auto text = codec.decode(R"({"type":"user.created","data":{},"timestamp":"yesterday"})");
  REQUIRE(text.ok());
  CHECK_FALSE(text.facts.timestamp_ms);
  auto absent = codec.decode(R"({"type":"user.created","data":{}})");
  CHECK_FALSE(absent.facts.timestamp_ms);
  CHECK_FALSE(
      codec.decode(R"({"type":"user.created","data":{},"timestamp":-5})").facts.timestamp_ms);
}

TEST_CASE("not JSON: empty, truncated, trailing garbage, BOM, comments, NaN (rows 33, 34)",
          "[unit][events]") {
  for (std::string_view body :
       {std::string_view(""), std::string_view("   "),
        std::string_view(R"({"type":"user.created","data":{})"),
        std::string_view(R"({"type":"user.created","data":{}} x)"),
        std::string_view("\xEF\xBB\xBF{\"type\":\"user.created\",\"data\":{}}"),
        std::string_view(R"({"type":"user.created","data":{}} // c)"),
        std::string_view(R"({"type":"user.created","data":{"n":NaN}})"),
        std::string_view(R"({'type':'user.created','data':{}})"),
        std::string_view("{\"type\":\"user.created\",\"data\":{\"s\":\"a\tb\"}}")}) {
    CAPTURE(body);
    CHECK(error_of(body) == EnvelopeError::kInvalidJson);
  }
}

TEST_CASE("invalid UTF-8 anywhere is refused (row 35)", "[unit][events]") {
  CHECK(error_of("{\"type\":\"user.created\",\"data\":{\"n\":\"\xff\"}}") ==
        EnvelopeError::kInvalidUtf8);
  CHECK(error_of("{\"type\":\"user.created\",\"data\":{\"n\":\"\xc3\x28\"}}") ==
        EnvelopeError::kInvalidUtf8);
  CHECK(error_of("{\"type\":\"user.created\",\"data\":{\"n\":\"\xed\xa0\x80\"}}") ==
        EnvelopeError::kInvalidUtf8);  // an encoded surrogate
  CHECK(error_of("{\"type\":\"user.created\",\"data\":{\"n\":\"caf\xc3\xa9\"}}") ==
        EnvelopeError::kNone);
}

TEST_CASE("\\u0000 in a string or a key is refused (row 36)", "[unit][events]") {
  CHECK(error_of(R"({"type":"user.created","data":{"n":"a\u0000b"}})") ==
        EnvelopeError::kNulInString);
  CHECK(error_of(R"({"type":"user.created","data":{"a\u0000":1}})") == EnvelopeError::kNulInString);
  CHECK(error_of(R"({"type":"user.created","data":{"n":["x",{"y":"\u0000"}]}})") ==
        EnvelopeError::kNulInString);
  CHECK(error_of(R"({"type":"user.created","data":{"n":"\u0001"}})") == EnvelopeError::kNone);
  // An escaped backslash before the letters u0000 is text, not a NUL.
  CHECK(error_of(R"({"type":"user.created","data":{"n":"\\u0000"}})") == EnvelopeError::kNone);
  CHECK(error_of(R"({"type":"user.created","data":{"n":"\\u0000","m":"\u0000"}})") ==
        EnvelopeError::kNulInString);
}

TEST_CASE("nesting over 64 levels and out-of-range numbers are refused (row 37)",
          "[unit][events]") {
  CHECK(error_of(nested(64)) == EnvelopeError::kNone);
  CHECK(error_of(nested(65)) == EnvelopeError::kInvalidJson);
  CHECK(error_of(nested(100000)) == EnvelopeError::kInvalidJson);
  CHECK(error_of(R"({"type":"user.created","data":{"n":1e400}})") == EnvelopeError::kInvalidJson);
  CHECK(error_of(R"({"type":"user.created","data":{"n":-1e400}})") == EnvelopeError::kInvalidJson);
  CHECK(error_of("{\"type\":\"user.created\",\"data\":{\"n\":" + std::string(400, '9') + "}}") ==
        EnvelopeError::kInvalidJson);
  CHECK(error_of(R"({"type":"user.created","data":{"n":1e300,"m":-9223372036854775808}})") ==
        EnvelopeError::kNone);
}

TEST_CASE("duplicate keys are refused, including after unescaping (row 38)", "[unit][events]") {
  CHECK(error_of(R"({"type":"user.created","type":"user.deleted","data":{}})") ==
        EnvelopeError::kDuplicateKey);
  CHECK(error_of(R"({"type":"user.created","data":{"id":"user_1","id":"user_2"}})") ==
        EnvelopeError::kDuplicateKey);
  CHECK(error_of(R"({"type":"user.created","data":{"id":"a","\u0069d":"b"}})") ==
        EnvelopeError::kDuplicateKey);
  CHECK(error_of(R"({"type":"user.created","data":{"x":[{"k":1,"k":2}]}})") ==
        EnvelopeError::kDuplicateKey);
  CHECK(error_of(R"({"type":"user.created","data":{"a":{"k":1},"b":{"k":2}}})") ==
        EnvelopeError::kNone);
  // The keys of an object are compared with each other only, also after a nested one.
  CHECK(error_of(R"({"type":"user.created","data":{"a":{"b":1,"c":2},"b":{"a":1},"c":3}})") ==
        EnvelopeError::kNone);
  CHECK(error_of(R"({"type":"user.created","data":{"a":{"b":1,"c":2},"d":[{"e":1}],"a":3}})") ==
        EnvelopeError::kDuplicateKey);
}

TEST_CASE("one codec decodes many bodies in a row the same way", "[unit][events]") {
  EnvelopeCodec codec;
  for (int i = 0; i < 200; ++i) {
    CAPTURE(i);
    CHECK(codec.decode(R"({"type":"user.created","data":{"a":{"k":1},"k":2}})").error ==
          EnvelopeError::kNone);
    CHECK(codec.decode(R"({"type":"user.created","data":{"k":{"a":1},"k":2}})").error ==
          EnvelopeError::kDuplicateKey);
    CHECK(codec.decode(R"({"type":"user.created","data":{"n":"\u0000"}})").error ==
          EnvelopeError::kNulInString);
  }
}

TEST_CASE("the envelope shape: an object with a string type and an object data (row 39)",
          "[unit][events]") {
  for (std::string_view body :
       {R"([])", R"("user.created")", R"(42)", R"(null)", R"({"data":{}})",
        R"({"type":"user.created"})", R"({"type":7,"data":{}})", R"({"type":"","data":{}})",
        R"({"type":"user.created","data":[]})", R"({"type":"user.created","data":null})",
        R"({"type":null,"data":{}})"}) {
    CAPTURE(body);
    CHECK(error_of(body) == EnvelopeError::kInvalidEnvelope);
  }
  CHECK(to_code(EnvelopeError::kInvalidEnvelope) == "invalid_envelope");
}

TEST_CASE("unknown types and unusable data are still envelopes (rows 40, 41)", "[unit][events]") {
  EnvelopeCodec codec;
  auto unknown = codec.decode(R"({"type":"user.banned","data":{"id":"user_1"}})");
  REQUIRE(unknown.ok());
  CHECK(unknown.facts.type == "user.banned");
  auto no_id = codec.decode(R"({"type":"user.created","data":{"first_name":"A"}})");
  REQUIRE(no_id.ok());
  CHECK_FALSE(no_id.facts.data_id);
  auto wrong = codec.decode(R"({"type":"user.created","data":{"id":42}})");
  REQUIRE(wrong.ok());
  CHECK_FALSE(wrong.facts.data_id);
}

TEST_CASE("the key is the entity the event is about", "[unit][events]") {
  EnvelopeCodec codec;
  auto key = [&codec](std::string_view body) {
    auto decoded = codec.decode(body);
    REQUIRE(decoded.ok());
    return event_key(decoded.facts, "msg_fallback");
  };
  CHECK(key(R"({"type":"user.updated","data":{"id":"user_1"}})") == "user_1");
  CHECK(key(R"({"type":"user.deleted","data":{"deleted":true,"id":"user_1"}})") == "user_1");
  CHECK(key(R"({"type":"organization.created","data":{"id":"org_1"}})") == "org_1");
  CHECK(key(R"({"type":"organizationMembership.deleted","data":{"id":"orgmem_1",)"
            R"("organization":{"id":"org_1"},"public_user_data":{"user_id":"user_2"}}})") ==
        "org_1");
  CHECK(key(R"({"type":"organizationInvitation.accepted","data":{"id":"orginv_1",)"
            R"("organization_id":"org_7"}})") == "org_7");
  CHECK(key(R"({"type":"session.created","data":{"id":"sess_1","user_id":"user_5"}})") == "user_5");
  CHECK(key(R"({"type":"email.created","data":{"id":"ema_1","user_id":"user_6"}})") == "user_6");
  CHECK(key(R"({"type":"sms.created","data":{"id":"sms_1"}})") == "sms_1");  // no user_id yet
  CHECK(key(R"({"type":"role.created","data":{"id":"role_1"}})") == "role_1");
  CHECK(key(R"({"type":"organizationMembership.created","data":{"id":"orgmem_2"}})") == "orgmem_2");
  CHECK(key(R"({"type":"user.created","data":{}})") == "msg_fallback");
  CHECK(key(R"({"type":"userX.created","data":{"id":"x_1","user_id":"u"}})") == "x_1");
  CHECK(key_field_for("session.ended") == KeyField::kDataUserId);
  CHECK(key_field_for("organizationMembership") == KeyField::kDataId);
}

TEST_CASE("the codec is safe to share between threads", "[unit][events]") {
  EnvelopeCodec codec;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&codec, &failures, t] {
      for (int i = 0; i < 500; ++i) {
        std::string id = "user_" + std::to_string(t) + "_" + std::to_string(i);
        auto r = codec.decode(R"({"type":"user.created","data":{"id":")" + id + R"("}})");
        if (!r.ok() || r.facts.data_id != id) ++failures;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(failures.load() == 0);
}
