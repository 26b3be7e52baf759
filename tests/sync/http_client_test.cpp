#include <catch2/catch.hpp>

#include "common/logging/logger.hpp"
#include "support/fake_clerk_api.hpp"
#include "worker/sync/clerk_api_client.hpp"
#include "worker/sync/curl_http_transport.hpp"

using namespace worker::sync;
using std::chrono::milliseconds;

namespace {
ClerkApiSettings settings_for(const sync_test::FakeClerkApi& api) {
  ClerkApiSettings s;
  s.base_url = api.url();
  s.secret_key = api.secret_key();
  s.requests_per_second = 100;
  s.timeout = milliseconds(2000);
  s.retry.initial_backoff = milliseconds(50);
  return s;
}
}  // namespace

TEST_CASE("over real HTTP, no request goes out before Retry-After expires", "[unit]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  sync_test::FakeClerkApi api;
  api.data().add_user();
  api.inject({"/v1/users", 429, "1", 1});
  SystemClock clock;
  CurlHttpTransport transport;
  ClerkApiClient client(settings_for(api), transport, clock, logger);
  ApiPage page = client.list(EntityKind::kUser, "", 10, 0);
  CHECK(page.items.size() == 1);
  auto log = api.requests();
  REQUIRE(log.size() == 2);
  CHECK(log[0].status == 429);
  CHECK(log[1].status == 200);
  CHECK(log[1].at - log[0].at >= milliseconds(1000));
  CHECK(client.stats().throttled == 1);
}

TEST_CASE("over real HTTP, 5xx and slow answers are retried", "[unit]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  sync_test::FakeClerkApi api;
  api.data().add_organization();
  api.inject({"/v1/organizations", 502, "", 2});
  api.inject({"/v1/organizations", 200, "", 1, milliseconds(1500)});  // slower than the timeout
  SystemClock clock;
  CurlHttpTransport transport;
  ClerkApiSettings settings = settings_for(api);
  settings.timeout = milliseconds(500);
  ClerkApiClient client(settings, transport, clock, logger);
  ApiPage page = client.list(EntityKind::kOrganization, "", 10, 0);
  CHECK(page.items.size() == 1);
  CHECK(page.total_count == 1);
  CHECK(client.stats().retries == 3);
}

TEST_CASE("over real HTTP, a wrong key fails naming the endpoint and status", "[unit]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  sync_test::FakeClerkApi api;
  SystemClock clock;
  CurlHttpTransport transport;
  ClerkApiSettings settings = settings_for(api);
  settings.secret_key = "sk_test_wrong";
  ClerkApiClient client(settings, transport, clock, logger);
  CHECK_THROWS_WITH(client.count(EntityKind::kUser, ""),
                    Catch::Contains("GET /v1/users/count") && Catch::Contains("HTTP 401"));
  settings.base_url = "http://127.0.0.1:1";
  settings.retry.max_attempts = 2;
  ClerkApiClient nowhere(settings, transport, clock, logger);
  CHECK_THROWS_WITH(nowhere.count(EntityKind::kUser, ""),
                    Catch::Contains("GET /v1/users/count") && Catch::Contains("connection failed"));
}
