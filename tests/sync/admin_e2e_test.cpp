// The worker's admin API end to end: a real worker (real broker, real database)
// starts `clerk-mirror backfill` on POST /admin/backfill against the fake Clerk
// API, the mirror fills up, and /admin/status, /admin/sync-runs and
// /admin/database report it. Stopping the worker stops a running backfill.
#include <simdjson.h>
#include <sys/types.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <regex>

#include "support/http_fetch.hpp"
#include "support/sync_e2e.hpp"

using namespace std::chrono_literals;
using sync_test::SyncStack;
using sync_test::wait_until;

namespace {

constexpr const char* kToken = "admin-e2e-token-0123456789";

// The port the worker logged for its ops endpoints (it listens on port 0); 0 if not yet.
int ops_port(const std::string& log) {
  static const std::regex listening(R"("msg":"ops endpoints listening".*"port":([0-9]+))");
  std::smatch m;
  return std::regex_search(log, m, listening) ? std::stoi(m[1]) : 0;
}

struct Admin {
  std::string base;
  test_support::HttpAnswer get(const std::string& path) const {
    return test_support::http_fetch(base + path, "GET",
                                    {std::string("Authorization: Bearer ") + kToken});
  }
  test_support::HttpAnswer post(const std::string& path) const {
    return test_support::http_fetch(base + path, "POST",
                                    {std::string("Authorization: Bearer ") + kToken});
  }
};

}  // namespace

TEST_CASE("a backfill started through the admin API fills the mirror and is reported",
          "[e2e][admin]") {
  SyncStack stack;
  auto& data = stack.api().data();
  std::vector<std::string> users;
  for (int i = 0; i < 40; ++i)
    users.push_back(data.add_user().id);
  for (int o = 0; o < 4; ++o) {
    auto org = data.add_organization();
    for (int m = 0; m < 3; ++m)
      data.add_membership(org.id, users[static_cast<std::size_t>(o * 5 + m)], "org:member");
  }
  // Small pages at 4 requests a second: the backfill runs for a few seconds.
  stack.start_worker(
      {{"ADMIN_TOKEN", kToken}, {"CLERK_API_RATE", "4"}, {"CLERK_API_PAGE_SIZE", "10"}});
  int port = 0;
  REQUIRE(wait_until([&] { return (port = ops_port(stack.worker_log())) > 0; }, 10s));
  Admin admin{"http://127.0.0.1:" + std::to_string(port)};

  CHECK(test_support::http_fetch(admin.base + "/admin/status").status == 401);
  auto started = admin.post("/admin/backfill");
  INFO(started.body);
  REQUIRE(started.status == 202);
  CHECK_THAT(started.body, Catch::Contains("\"running\":true"));
  auto second = admin.post("/admin/backfill");
  CHECK(second.status == 409);

  REQUIRE(wait_until(
      [&] {
        return admin.get("/admin/backfill").body.find("\"running\":false") != std::string::npos;
      },
      90s, 250ms));
  auto finished = admin.get("/admin/backfill");
  INFO(finished.body);
  CHECK_THAT(finished.body, Catch::Contains("\"exit_code\":0"));
  CHECK(wait_until(
      [&] {
        return stack.worker_log().find("backfill started from the admin API finished") !=
               std::string::npos;
      },
      5s));

  std::vector<std::string> diffs;
  bool equal = wait_until(
      [&] {
        diffs = sync_test::mirror_differences(stack.database_url(), data);
        return diffs.empty();
      },
      60s, 500ms);
  for (const auto& d : diffs)
    UNSCOPED_INFO(d);
  REQUIRE(equal);

  // The status document, read as JSON: this worker, its backfill, the database.
  simdjson::dom::parser parser;
  auto applied_events = [&](const std::string& body) -> std::int64_t {
    simdjson::dom::element doc;
    if (parser.parse(body).get(doc)) return -1;
    return doc["worker"]["events"]["applied"].get_int64().value();
  };
  std::string body;
  bool reported = wait_until(
      [&] {
        auto status = admin.get("/admin/status");
        body = status.body;
        return status.status == 200 && applied_events(body) >= 40 + 4 + 12;
      },
      30s, 500ms);
  INFO(body);
  REQUIRE(reported);
  simdjson::dom::element doc = parser.parse(body);
  simdjson::dom::element worker = doc["worker"];
  CHECK_FALSE(worker["retrying"].get_bool().value());
  CHECK(std::string_view(worker["last_event"]["source"].get_string().value()) == "backfill");
  CHECK(worker["lag"]["total"].get_int64().value() >= 0);
  CHECK(doc["backfill"]["exit_code"].get_int64().value() == 0);
  simdjson::dom::element tables = doc["database"]["tables"];
  CHECK(tables["users"]["rows"].get_int64().value() == 40);
  CHECK(tables["organizations"]["rows"].get_int64().value() == 4);
  CHECK(tables["organization_memberships"]["rows"].get_int64().value() == 12);
  simdjson::dom::element newest = doc["sync_runs"].at(0);
  CHECK(std::string_view(newest["kind"].get_string().value()) == "backfill");
  CHECK(std::string_view(newest["status"].get_string().value()) == "succeeded");

  auto log = admin.get("/admin/sync-runs?limit=1");
  CHECK(log.status == 200);
  CHECK_THAT(log.body, Catch::StartsWith("{\"sync_runs\":[{\"id\":") &&
                           Catch::Contains("\"kind\":\"backfill\""));
  auto database = admin.get("/admin/database");
  CHECK(database.status == 200);
  CHECK_THAT(database.body, Catch::Contains("\"users\":{\"rows\":40,\"deleted\":0}"));

  // A backfill still running when the worker stops is stopped with it.
  auto restarted = admin.post("/admin/backfill?restart=true");
  REQUIRE(restarted.status == 202);
  simdjson::dom::element started_doc = parser.parse(restarted.body);
  auto child = static_cast<pid_t>(started_doc["pid"].get_int64().value());
  REQUIRE(child > 0);
  CHECK(stack.stop_worker() == 0);
  CHECK(::kill(child, 0) != 0);  // gone and reaped
}
