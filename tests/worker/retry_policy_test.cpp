#include "worker/retry/retry_policy.hpp"

#include <catch2/catch.hpp>

#include "common/events/entity_decoder.hpp"
#include "common/kafka/kafka_record.hpp"
#include "worker/apply/inbound_event.hpp"
#include "worker/config/worker_config.hpp"
#include "worker/retry/failure_copy.hpp"
#include "worker/store/pg_array.hpp"
#include "worker/store/store_error.hpp"

using namespace worker::retry;
using worker::store::StoreError;
using worker::store::StoreFailure;

namespace {

StoreError statement(const char* sqlstate) {
  return StoreError(StoreFailure::kStatement, sqlstate, "x");
}

}  // namespace

TEST_CASE("transient database errors are retried in place, event errors later", "[unit]") {
  RetryPolicy policy{RetryConfig{}};
  for (const char* s :
       {"40001", "40P01", "57P01", "57P03", "08006", "08001", "53300", "55P03", "42P01"}) {
    INFO(s);
    CHECK(policy.classify(statement(s)) == Disposition::kRetryInPlace);
  }
  for (const char* s : {"22P05", "22003", "23505", "P0001", "XX000"}) {
    INFO(s);
    CHECK(policy.classify(statement(s)) == Disposition::kRetryLater);
  }
  CHECK(policy.classify(StoreError(StoreFailure::kConnectionLost, "", "x")) ==
        Disposition::kRetryInPlace);
  CHECK(policy.classify(StoreError(StoreFailure::kInDoubt, "", "x")) == Disposition::kRetryInPlace);
  CHECK(policy.classify(std::make_exception_ptr(std::runtime_error("broker"))) ==
        Disposition::kRetryInPlace);
  CHECK(RetryPolicy::failure_label(std::make_exception_ptr(statement("40P01"))) == "40");
  CHECK(RetryPolicy::failure_label(
            std::make_exception_ptr(StoreError(StoreFailure::kInDoubt, "", ""))) == "in_doubt");
  CHECK(RetryPolicy::failure_label(std::make_exception_ptr(statement("ZZ999"))) == "other");
}

TEST_CASE("in-place backoff doubles, is capped and jittered", "[unit]") {
  RetryConfig config;
  config.backoff_initial = std::chrono::milliseconds(100);
  config.backoff_max = std::chrono::milliseconds(1000);
  RetryPolicy policy(config);
  CHECK(policy.backoff(1, 0.999).count() == 99);
  CHECK(policy.backoff(1, 0.0).count() == 50);
  CHECK(policy.backoff(3, 0.999).count() == 399);
  CHECK(policy.backoff(30, 0.999).count() == 999);
  CHECK(policy.backoff(1000, 0.0).count() == 500);
}

TEST_CASE("failed events climb the retry topics, then reach the dead-letter topic", "[unit]") {
  RetryConfig config;
  config.topic_delays = {std::chrono::milliseconds(100), std::chrono::milliseconds(2000)};
  RetryPolicy policy(config);
  CHECK(policy.retry_levels() == 2);
  auto first = policy.next_hop(0, false, 1000);
  CHECK(first.retry_level == 1);
  CHECK(first.not_before_ms == 1100);
  auto second = policy.next_hop(1, false, 1000);
  CHECK(second.retry_level == 2);
  CHECK(second.not_before_ms == 3000);
  CHECK(policy.next_hop(2, false, 1000).retry_level == 0);
  CHECK(policy.next_hop(0, true, 1000).retry_level == 0);  // malformed: straight to the DLQ
  RetryPolicy none{RetryConfig{{}, std::chrono::milliseconds(1), std::chrono::milliseconds(1)}};
  CHECK(none.next_hop(0, false, 0).retry_level == 0);
}

TEST_CASE("failure copies keep the record and say why and where it came from", "[unit]") {
  common::events::EntityDecoder decoder;
  common::kafka::ConsumedRecord record;
  record.topic = "clerk.events";
  record.partition = 2;
  record.offset = 77;
  record.timestamp_ms = 1700000000000;
  record.key = "user_1";
  record.value = R"({"type":"user.updated","data":{"id":"user_1"}})";
  record.headers = {{"event-id", "msg_1"}, {"source", "webhook"}};
  auto event = worker::apply::read_inbound(record, decoder);

  auto retry = failure_copy(event, "clerk.events", {1, 5000}, {"database", "22P05: bad"}, "w1");
  CHECK(retry.topic == "clerk.events.retry.1");
  CHECK(retry.key == "user_1");
  CHECK(retry.value == record.value);
  auto h = [&](const common::kafka::OutgoingRecord& r, const char* name) {
    const auto* found = common::kafka::find_header(r.headers, name);
    return found ? found->value : std::string("<none>");
  };
  CHECK(h(retry, "event-id") == "msg_1");
  CHECK(h(retry, "source") == "webhook");
  CHECK(h(retry, "attempt") == "1");
  CHECK(h(retry, "not-before") == "5000");
  CHECK(h(retry, "original-topic") == "clerk.events");
  CHECK(h(retry, "original-partition") == "2");
  CHECK(h(retry, "original-offset") == "77");
  CHECK(h(retry, "original-timestamp") == "1700000000000");
  CHECK(h(retry, "error-class") == "database");
  CHECK(h(retry, "error-message") == "22P05: bad");
  CHECK(h(retry, "worker") == "w1");

  // The retry copy fails again on the last level: dead letter, original kept.
  common::kafka::ConsumedRecord again;
  again.topic = "clerk.events.retry.1";
  again.partition = 0;
  again.offset = 5;
  again.key = retry.key;
  again.value = retry.value;
  again.headers = retry.headers;
  auto retried = worker::apply::read_inbound(again, decoder);
  CHECK(retried.attempt == 1);
  auto dead =
      failure_copy(retried, "clerk.events", {0, 0}, {"database", std::string(5000, 'x')}, "w2");
  CHECK(dead.topic == "clerk.events.dlq");
  CHECK(h(dead, "attempt") == "2");
  CHECK(h(dead, "not-before") == "<none>");
  CHECK(h(dead, "original-topic") == "clerk.events");
  CHECK(h(dead, "original-offset") == "77");
  CHECK(h(dead, "worker") == "w2");
  CHECK(h(dead, "error-message").size() == 1000);
  std::size_t attempts = 0;
  for (const auto& header : dead.headers)
    attempts += header.name == "attempt";
  CHECK(attempts == 1);
}

TEST_CASE("arrays are encoded in PostgreSQL's binary array format", "[unit]") {
  using worker::store::PgArray;
  using worker::store::PgElement;
  auto u32 = [](const std::string& b, std::size_t at) {
    return (static_cast<unsigned>(static_cast<unsigned char>(b[at])) << 24) |
           (static_cast<unsigned>(static_cast<unsigned char>(b[at + 1])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(b[at + 2])) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(b[at + 3]));
  };
  PgArray text(PgElement::kText);
  text.add(std::string_view("a\"{"));
  text.add_null();
  text.add(std::string_view(""));
  auto bytes = text.finish();
  CHECK(u32(bytes, 0) == 1);   // dimensions
  CHECK(u32(bytes, 4) == 1);   // has nulls
  CHECK(u32(bytes, 8) == 25);  // text
  CHECK(u32(bytes, 12) == 3);  // length
  CHECK(u32(bytes, 16) == 1);  // lower bound
  CHECK(u32(bytes, 20) == 3);
  CHECK(bytes.substr(24, 3) == "a\"{");
  CHECK(u32(bytes, 27) == 0xffffffffu);
  CHECK(u32(bytes, 31) == 0);
  CHECK(bytes.size() == 35);

  PgArray numbers(PgElement::kInt8);
  numbers.add(std::int64_t{-2});
  bytes = numbers.finish();
  CHECK(u32(bytes, 4) == 0);
  CHECK(u32(bytes, 8) == 20);
  CHECK(u32(bytes, 20) == 8);
  CHECK(u32(bytes, 24) == 0xffffffffu);
  CHECK(u32(bytes, 28) == 0xfffffffeu);
  CHECK(numbers.finish().size() == 12);  // empty: no dimensions

  PgArray flags(PgElement::kBool);
  flags.add(true);
  CHECK(flags.finish().back() == '\1');
  PgArray small(PgElement::kInt4);
  CHECK_THROWS(small.add(std::int64_t{1} << 40));
  CHECK_THROWS(flags.add(std::string_view("x")));
}

TEST_CASE("retry delays parse from milliseconds lists", "[unit]") {
  std::vector<std::chrono::milliseconds> delays;
  CHECK(worker::config::parse_delays("100, 2000,30000", delays));
  CHECK(delays.size() == 3);
  CHECK(delays[1].count() == 2000);
  CHECK(worker::config::parse_delays("", delays));
  CHECK(delays.empty());
  CHECK_FALSE(worker::config::parse_delays("1s", delays));
  CHECK_FALSE(worker::config::parse_delays("-1", delays));
}
