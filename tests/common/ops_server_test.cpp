#include "common/http/ops_server.hpp"

#include <curl/curl.h>

#include <catch2/catch.hpp>

#include "common/logging/logger.hpp"

namespace {

struct Answer {
  long status = 0;
  std::string body;
  std::string headers;
};

std::size_t append(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

Answer fetch(const std::string& url, const char* method = "GET", const char* auth = nullptr) {
  Answer answer;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
  curl_slist* list = nullptr;
  if (auth) list = curl_slist_append(list, auth);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  REQUIRE(curl_easy_perform(curl) == CURLE_OK);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
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
  server.stop();
}

TEST_CASE("an address already in use is a clear startup error", "[unit][http]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  common::http::OpsServer first("127.0.0.1:0", logger);
  first.start();
  common::http::OpsServer second("127.0.0.1:" + std::to_string(first.port()), logger);
  CHECK_THROWS_WITH(second.start(), Catch::Contains("cannot listen on"));
}
