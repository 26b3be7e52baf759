#include <catch2/catch.hpp>

#include "common/logging/logger.hpp"
#include "support/sync_fakes.hpp"
#include "worker/sync/api_retry_policy.hpp"
#include "worker/sync/clerk_api_client.hpp"
#include "worker/sync/rate_limiter.hpp"

using namespace worker::sync;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
HttpResponse completed(int status, std::string retry_after = "") {
  HttpResponse r;
  r.status = status;
  r.retry_after = std::move(retry_after);
  return r;
}
}  // namespace

TEST_CASE("Retry-After is read as seconds or as an HTTP date", "[unit]") {
  std::int64_t now = 1445412480000;  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(parse_retry_after("3", now) == milliseconds(3000));
  CHECK(parse_retry_after(" 0.5 ", now) == milliseconds(500));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now) == milliseconds(10000));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == milliseconds(0));
  CHECK_FALSE(parse_retry_after("soon", now).has_value());
  CHECK_FALSE(parse_retry_after("", now).has_value());
  CHECK_FALSE(parse_retry_after("-1", now).has_value());
}

TEST_CASE("the retry policy retries what is transient, with a capped doubling backoff", "[unit]") {
  ApiRetryPolicy policy({5, milliseconds(100), milliseconds(1000), seconds(60)});
  CHECK(policy.decide(completed(200), 1, 0).verdict == ApiVerdict::kAccept);
  CHECK(policy.decide(completed(404), 1, 0).verdict == ApiVerdict::kNotFound);
  CHECK(policy.decide(completed(401), 1, 0).verdict == ApiVerdict::kFail);
  CHECK(policy.decide(completed(422), 1, 0).verdict == ApiVerdict::kFail);
  CHECK(policy.decide(completed(502), 1, 0).verdict == ApiVerdict::kRetry);
  HttpResponse timeout;
  timeout.transport = HttpResponse::Transport::kTimedOut;
  CHECK(policy.decide(timeout, 1, 0).verdict == ApiVerdict::kRetry);
  CHECK(policy.backoff(1) == milliseconds(100));
  CHECK(policy.backoff(2) == milliseconds(200));
  CHECK(policy.backoff(4) == milliseconds(800));
  CHECK(policy.backoff(9) == milliseconds(1000));
  ApiDecision last = policy.decide(completed(500), 5, 0);
  CHECK(last.verdict == ApiVerdict::kFail);
  CHECK_THAT(last.reason, Catch::Contains("gave up after 5 attempts"));
}

TEST_CASE("a 429 waits what Retry-After says and holds every request", "[unit]") {
  ApiRetryPolicy policy({5, milliseconds(100), milliseconds(1000), seconds(60)});
  ApiDecision d = policy.decide(completed(429, "7"), 1, 0);
  CHECK(d.verdict == ApiVerdict::kRetry);
  CHECK(d.throttled);
  CHECK(d.delay == seconds(7));  // beyond the backoff cap: the server's word wins
  CHECK(policy.decide(completed(429), 1, 0).delay == milliseconds(100));
  CHECK(policy.decide(completed(429, "3600"), 1, 0).verdict == ApiVerdict::kFail);
  // Out of attempts, a 429 is still waited out, up to max_throttled in a row.
  CHECK(policy.decide(completed(429, "1"), 5, 0, 3).verdict == ApiVerdict::kRetry);
  CHECK(policy.decide(completed(429, "1"), 1, 0, 100).verdict == ApiVerdict::kFail);
  CHECK(policy.decide(completed(500), 5, 0, 3).verdict == ApiVerdict::kFail);
}

TEST_CASE("the rate limiter spaces requests and honours holds", "[unit]") {
  RateLimiter limiter(4);  // one per 250 ms
  RateLimiter::TimePoint t0{seconds(10)};
  CHECK(limiter.acquire(t0) == t0);
  CHECK(limiter.acquire(t0) == t0 + milliseconds(250));
  CHECK(limiter.acquire(t0 + seconds(5)) == t0 + seconds(5));
  limiter.hold_until(t0 + seconds(9));
  CHECK(limiter.acquire(t0 + seconds(6)) == t0 + seconds(9));
  limiter.hold_until(t0 + seconds(1));  // holds never shrink
  CHECK(limiter.acquire(t0 + seconds(6)) == t0 + seconds(9) + milliseconds(250));
}

TEST_CASE("the client sends the bearer key and decodes a page of users", "[unit]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  sync_test::ManualClock clock;
  sync_test::ScriptedTransport transport(clock);
  ClerkApiSettings settings;
  settings.base_url = "http://clerk.test/";
  settings.secret_key = "sk_test_abc";
  ClerkApiClient client(settings, transport, clock, logger);
  transport.push_status(
      200, R"([{"id":"user_1","object":"user","created_at":10,"updated_at":20,"first_name":"A"}])");
  ApiPage page = client.list(EntityKind::kUser, "", 500, 0);
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0].id == "user_1");
  CHECK(page.items[0].updated_at_ms == 20);
  REQUIRE(transport.calls.size() == 1);
  CHECK(transport.calls[0].url ==
        "http://clerk.test/v1/users?limit=500&offset=0&order_by=-created_at");
  CHECK(std::find(transport.calls[0].headers.begin(), transport.calls[0].headers.end(),
                  "Authorization: Bearer sk_test_abc") != transport.calls[0].headers.end());
}

TEST_CASE("the client makes no request before a Retry-After expires", "[unit]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  sync_test::ManualClock clock;
  sync_test::ScriptedTransport transport(clock);
  ClerkApiSettings settings;
  settings.secret_key = "k";
  settings.requests_per_second = 1000;
  ClerkApiClient client(settings, transport, clock, logger);
  transport.push_status(429, R"({"errors":[]})", "2");
  transport.push_status(503);
  transport.push_status(200, R"({"object":"total_count","total_count":42})");
  CHECK(client.count(EntityKind::kUser, "") == 42);
  REQUIRE(transport.calls.size() == 3);
  CHECK(transport.calls[1].at - transport.calls[0].at >= seconds(2));
  CHECK(transport.calls[2].at - transport.calls[1].at >= milliseconds(500));
  CHECK(client.stats().requests == 3);
  CHECK(client.stats().retries == 2);
  CHECK(client.stats().throttled == 1);
}

TEST_CASE("429 answers use up no attempt; a run of them still ends", "[unit]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  sync_test::ManualClock clock;
  sync_test::ScriptedTransport transport(clock);
  ClerkApiSettings settings;
  settings.secret_key = "k";
  settings.requests_per_second = 1000;
  settings.retry.max_attempts = 2;
  settings.retry.max_throttled = 6;
  ClerkApiClient client(settings, transport, clock, logger);
  // The application shares the rate budget: five 429s and a 503 within two attempts.
  for (int i = 0; i < 5; ++i)
    transport.push_status(429, R"({"errors":[]})", "1");
  transport.push_status(503);
  transport.push_status(200, R"({"object":"total_count","total_count":7})");
  CHECK(client.count(EntityKind::kUser, "") == 7);
  CHECK(client.stats().throttled == 5);

  for (int i = 0; i < 6; ++i)
    transport.push_status(429, R"({"errors":[]})", "1");
  try {
    client.count(EntityKind::kUser, "");
    FAIL("six 429s in a row should fail the request");
  } catch (const ApiError& e) {
    CHECK(e.status() == 429);
    CHECK_THAT(e.what(), Catch::Contains("6 in a row"));
  }
}

TEST_CASE("client errors name the endpoint and the status", "[unit]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  sync_test::ManualClock clock;
  sync_test::ScriptedTransport transport(clock);
  ClerkApiSettings settings;
  settings.secret_key = "k";
  settings.retry.max_attempts = 2;
  ClerkApiClient client(settings, transport, clock, logger);
  transport.push_status(401, R"({"errors":[{"code":"authentication_invalid"}]})");
  try {
    client.list(EntityKind::kOrganization, "", 10, 20);
    FAIL("expected ApiError");
  } catch (const ApiError& e) {
    CHECK(e.status() == 401);
    CHECK_THAT(e.what(), Catch::Contains("GET /v1/organizations?limit=10&offset=20"));
    CHECK_THAT(e.what(), Catch::Contains("HTTP 401"));
    CHECK_THAT(e.what(), Catch::Contains("authentication_invalid"));
  }
  transport.push_status(500);
  transport.push_status(500);
  CHECK_THROWS_WITH(
      client.get(EntityKind::kUser, "user_x"),
      Catch::Contains("GET /v1/users/user_x") && Catch::Contains("gave up after 2 attempts"));
  transport.push_status(404);
  CHECK_FALSE(client.get(EntityKind::kUser, "user_gone").has_value());
  transport.push_status(200, "not json");
  CHECK_THROWS_WITH(client.count(EntityKind::kUser, ""), Catch::Contains("unexpected body"));
}
