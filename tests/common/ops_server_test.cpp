#include "common/http/ops_server.hpp"

#include <catch2/catch.hpp>
#include <future>

#include "common/logging/logger.hpp"
#include "support/http_fetch.hpp"

namespace {

// GET (or `method`) with an optional "Authorization: ..." line; a request that gets
// no answer at all fails the test.
test_support::HttpAnswer fetch(const std::string& url, const char* method = "GET",
                               const char* auth = nullptr) {
  std::vector<std::string> headers;
  if (auth) headers.emplace_back(auth);
  auto answer = test_support::http_fetch(url, method, headers);
  REQUIRE(answer.status != 0);
  return answer;
}

}  // namespace

TEST_CASE("ops server routes exactly and answers 404/405 with JSON errors", "[unit][http]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  common::http::OpsServer server("127.0.0.1:0", logger);
  server.route("GET", "/healthz", [](const auto&) {
    return common::http::Response{200, "{\"status\":\"ok\"}"};
  });
  server.route("GET", "/boom", [](const auto&) -> common::http::Response {
    throw std::runtime_error("secret detail");
  });
  server.route("GET", "/admin", [](const common::http::Request& r) {
    return common::http::bearer_matches(r.authorization, "tok")
               ? common::http::Response{200, "{}"}
               : common::http::Response{401, common::http::json_error("unauthorized", "token")};
  });
  server.start();
  REQUIRE(server.port() != 0);
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  auto ok = fetch(base + "/healthz?x=1");
  CHECK(ok.status == 200);
  CHECK(ok.body == "{\"status\":\"ok\"}");
  CHECK(fetch(base + "/healthz/").status == 404);
  auto wrong_method = fetch(base + "/healthz", "POST");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.headers.find("Allow: GET") != std::string::npos);
  auto boom = fetch(base + "/boom");
  CHECK(boom.status == 500);
  CHECK(boom.body.find("secret") == std::string::npos);
  CHECK(fetch(base + "/admin").status == 401);
  CHECK(fetch(base + "/admin", "GET", "Authorization: Bearer tok").status == 200);
  CHECK(fetch(base + "/admin", "GET", "Authorization: Bearer to").status == 401);
  CHECK(fetch(base + "/admin", "GET", "Authorization: bearer tok").status == 200);  // any case
  CHECK(fetch(base + "/admin", "GET", "Authorization: Basic dG9rOg==").status == 401);
  CHECK(fetch(base + "/admin", "GET", "Authorization: Bear").status == 401);
  server.stop();
}

TEST_CASE("an address already in use is a clear startup error", "[unit][http]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  common::http::OpsServer first("127.0.0.1:0", logger);
  first.start();
  common::http::OpsServer second("127.0.0.1:" + std::to_string(first.port()), logger);
  CHECK_THROWS_WITH(second.start(), Catch::Contains("cannot listen on"));
}

TEST_CASE("a blocking handler does not hold up the quick routes", "[unit][http]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  common::http::OpsServer server("127.0.0.1:0", logger);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  server.route("GET", "/healthz", [](const auto&) { return common::http::Response{200, "{}"}; });
  server.route(
      "GET", "/slow",
      [released](const auto&) {
        released.wait();
        return common::http::Response{200, "{\"slow\":true}"};
      },
      common::http::HandlerThread::kBlocking);
  server.start();
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  // Catch's assertions stay on this thread: the helper thread only fetches.
  auto slow =
      std::async(std::launch::async, [&] { return test_support::http_fetch(base + "/slow"); });
  // While /slow is parked on the blocking thread, the I/O thread still answers.
  for (int i = 0; i < 3; ++i)
    CHECK(fetch(base + "/healthz").status == 200);
  CHECK(slow.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  release.set_value();
  auto answer = slow.get();
  CHECK(answer.status == 200);
  CHECK(answer.body == "{\"slow\":true}");
  server.stop();
}

TEST_CASE("query values are found by name and percent-decoded", "[unit][http]") {
  using common::http::query_value;
  CHECK(query_value("limit=5&entities=users", "entities") == std::optional<std::string>("users"));
  CHECK(query_value("limit=5&entities=users", "limit") == std::optional<std::string>("5"));
  CHECK(query_value("entities=users%2Corganizations", "entities") ==
        std::optional<std::string>("users,organizations"));
  CHECK(query_value("q=a+b", "q") == std::optional<std::string>("a b"));
  CHECK(query_value("flag", "flag") == std::optional<std::string>(""));
  CHECK_FALSE(query_value("limit=5", "lim").has_value());
  CHECK_FALSE(query_value("", "limit").has_value());
  CHECK_FALSE(query_value("q=%4", "q").has_value());
  CHECK_FALSE(query_value("q=%zz", "q").has_value());
}
