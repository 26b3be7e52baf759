// The admin API's guard, parameters and backfill child process, over real HTTP
// against an OpsServer in this process (no database, no broker: the database URL
// points at a closed port); the worker's status document rendered from its parts.
#include "worker/commands/admin_api.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/http/ops_server.hpp"
#include "common/logging/logger.hpp"
#include "support/http_fetch.hpp"
#include "support/test_env.hpp"
#include "worker/commands/backfill_launcher.hpp"
#include "worker/observe/worker_status.hpp"

using worker::commands::BackfillLauncher;
using worker::observe::WorkerStatus;

namespace {

constexpr const char* kToken = "0123456789abcdef-token";
constexpr std::int64_t kNow = 1796560000000;  // 2026-12-06T12:26:40.000Z

std::string bearer(const std::string& token) {
  return "Authorization: Bearer " + token;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A stand-in for `clerk-mirror`: logs its arguments and open descriptors, sleeps,
// exits 3.
std::string fake_executable() {
  auto dir = std::filesystem::temp_directory_path() / test_support::unique_name("admin_api");
  std::filesystem::create_directories(dir);
  auto path = dir / "clerk-mirror";
  std::ofstream(path) << "#!/bin/sh\necho \"$@\" > \"$0.args\"\n"
                         "ls -l /proc/$$/fd > \"$0.fds\"\nsleep 1\nexit 3\n";
  ::chmod(path.c_str(), 0755);
  return path.string();
}

struct AdminServer {
  AdminServer(std::string token, bool backfill_configured, std::string executable)
      : logger("test", common::logging::Level::kError),
        status("worker-a", "group-a", kNow),
        backfill(std::move(executable), {{"KAFKA_BROKERS", "127.0.0.1:1"}}),
        server("127.0.0.1:0", logger) {
    worker::commands::add_admin_routes(
        server, {std::move(token), "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
                 backfill_configured, &status, &backfill, &logger, [] { return kNow; }});
    server.start();
    base = "http://127.0.0.1:" + std::to_string(server.port());
  }
  ~AdminServer() {
    server.stop();
    backfill.stop(std::chrono::seconds(5));
  }
  test_support::HttpAnswer get(const std::string& path, const std::string& token = kToken) {
    return test_support::http_fetch(base + path, "GET", {bearer(token)});
  }
  test_support::HttpAnswer post(const std::string& path, const std::string& token = kToken) {
    return test_support::http_fetch(base + path, "POST", {bearer(token)});
  }

  common::logging::Logger logger;
  WorkerStatus status;
  BackfillLauncher backfill;
  common::http::OpsServer server;
  std::string base;
};

}  // namespace

TEST_CASE("admin API: without ADMIN_TOKEN every route answers 403", "[unit][admin]") {
  AdminServer admin("", true, "/bin/false");
  for (const char* path :
       {"/admin/status", "/admin/database", "/admin/sync-runs", "/admin/backfill"}) {
    INFO(path);
    auto answer = admin.get(path, "");
    CHECK(answer.status == 403);
    CHECK(contains(answer.body, "\"error\":\"admin_disabled\""));
  }
  CHECK(admin.post("/admin/backfill", "").status == 403);
  CHECK(admin.backfill.state().pid == 0);
}

TEST_CASE("admin API: a missing or wrong bearer token is refused with 401", "[unit][admin]") {
  AdminServer admin(kToken, true, "/bin/false");
  auto none = test_support::http_fetch(admin.base + "/admin/status");
  CHECK(none.status == 401);
  CHECK(contains(none.headers, "WWW-Authenticate: Bearer"));
  CHECK(contains(none.body, "\"error\":\"unauthorized\""));
  CHECK(admin.get("/admin/status", std::string(kToken) + "x").status == 401);
  CHECK(admin.get("/admin/backfill", "0123456789abcdef-tokem").status == 401);
  CHECK(admin.post("/admin/backfill", "nope").status == 401);
  CHECK(admin.backfill.state().pid == 0);
  // The unguarded routes are not the admin API's.
  CHECK(test_support::http_fetch(admin.base + "/admin").status == 404);
}

TEST_CASE("admin API: bad parameters get 400 before anything runs", "[unit][admin]") {
  AdminServer admin(kToken, true, "/bin/false");
  auto bad_entity = admin.post("/admin/backfill?entities=users,sessions");
  CHECK(bad_entity.status == 400);
  CHECK(contains(bad_entity.body, "'sessions' is not users, organizations or memberships"));
  CHECK(admin.post("/admin/backfill?dry_run=maybe").status == 400);
  CHECK(admin.post("/admin/backfill?force=true").status == 400);
  CHECK(admin.get("/admin/sync-runs?limit=0").status == 400);
  CHECK(admin.get("/admin/sync-runs?limit=101").status == 400);
  CHECK(admin.get("/admin/sync-runs?limit=5x").status == 400);
  CHECK(admin.get("/admin/status?verbose=1").status == 400);
  CHECK(admin.backfill.state().pid == 0);
}

TEST_CASE("admin API: without CLERK_SECRET_KEY a backfill cannot be started", "[unit][admin]") {
  AdminServer admin(kToken, false, "/bin/false");
  auto answer = admin.post("/admin/backfill");
  CHECK(answer.status == 503);
  CHECK(contains(answer.body, "CLERK_SECRET_KEY"));
  CHECK(admin.backfill.state().pid == 0);
}

TEST_CASE("admin API: an unreachable database is reported, not fatal", "[unit][admin]") {
  AdminServer admin(kToken, true, "/bin/false");
  auto database = admin.get("/admin/database");
  CHECK(database.status == 503);
  CHECK(contains(database.body, "\"error\":\"database_unavailable\""));
  auto status = admin.get("/admin/status");
  REQUIRE(status.status == 200);
  CHECK(contains(status.body, "\"worker\":{\"name\":\"worker-a\",\"group\":\"group-a\""));
  CHECK(contains(status.body, "\"database\":{\"error\":"));
  CHECK(contains(status.body, "\"sync_runs\":null"));
  CHECK(admin.get("/admin/sync-runs").status == 503);
}

TEST_CASE("admin API: one backfill child at a time, its exit code reported, stopped on stop",
          "[unit][admin]") {
  std::string executable = fake_executable();
  AdminServer admin(kToken, true, executable);

  auto idle = admin.get("/admin/backfill");
  CHECK(idle.status == 200);
  CHECK(idle.body ==
        "{\"running\":false,\"pid\":null,\"args\":[],\"started_at\":null,\"finished_at\":null,"
        "\"exit_code\":null}");

  auto started = admin.post("/admin/backfill?entities=users,memberships&dry_run=true");
  REQUIRE(started.status == 202);
  CHECK(contains(started.headers, "Location: /admin/backfill"));
  CHECK(contains(started.body, "\"running\":true"));
  CHECK(contains(started.body, "\"args\":[\"--users\",\"--memberships\",\"--dry-run\"]"));
  CHECK(contains(started.body, "\"started_at\":\"2026-12-06T12:26:40.000Z\""));
  auto again = admin.post("/admin/backfill");
  CHECK(again.status == 409);
  CHECK(contains(again.body, "\"error\":\"backfill_running\""));

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (admin.backfill.state().running && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto done = admin.get("/admin/backfill");
  CHECK(contains(done.body, "\"running\":false"));
  CHECK(contains(done.body, "\"exit_code\":3"));
  std::ifstream args(executable + ".args");
  std::string line;
  std::getline(args, line);
  CHECK(line == "backfill --users --memberships --dry-run");
  // The child holds none of the worker's sockets (the admin server's listening one
  // among them): a restarted worker can bind its port while a backfill still runs.
  std::ifstream fds(executable + ".fds");
  std::string listing((std::istreambuf_iterator<char>(fds)), std::istreambuf_iterator<char>());
  INFO(listing);
  CHECK_FALSE(listing.empty());
  CHECK(listing.find("socket:") == std::string::npos);

  // Stopping the launcher ends a running child with SIGTERM.
  REQUIRE(admin.post("/admin/backfill").status == 202);
  admin.backfill.stop(std::chrono::seconds(5));
  auto stopped = admin.backfill.state();
  CHECK_FALSE(stopped.running);
  CHECK(stopped.exit_code == 128 + SIGTERM);
  CHECK(admin.post("/admin/backfill").status == 503);
}

TEST_CASE("worker status: outcomes add up, the newest event and failure are kept",
          "[unit][admin]") {
  WorkerStatus status("w", "g", kNow);
  CHECK(worker::observe::to_json(status.snapshot()) ==
        "{\"name\":\"w\",\"group\":\"g\",\"started_at\":\"2026-12-06T12:26:40.000Z\","
        "\"retrying\":false,\"batches_committed\":0,\"events\":{\"applied\":0,\"stale\":0,"
        "\"duplicate\":0,\"ignored\":0,\"retried\":0,\"dead_lettered\":0},\"last_event\":null,"
        "\"last_error\":null,\"lag\":{\"total\":0,\"measured_at\":null,\"partitions\":[]}}");

  std::array<std::int64_t, worker::apply::kOutcomeCount> outcomes{3, 1, 0, 0, 0, 1};
  status.committed(outcomes, WorkerStatus::LastEvent{"msg_1", "user.updated", "webhook",
                                                     "clerk.events", 2, 41, kNow + 5});
  status.committed(outcomes, WorkerStatus::LastEvent{"msg_2", "user.deleted", "backfill",
                                                     "clerk.events", 0, 7, kNow + 9});
  status.failed({"event", "malformed", "not JSON", "msg_x", kNow + 8});
  status.failed({"batch", "08", "connection lost", "", kNow + 10});
  status.lag({{{"clerk.events", 0, 0}, 5}, {{"clerk.events", 1, 0}, 7}}, kNow + 11);

  auto snapshot = status.snapshot();
  CHECK(snapshot.retrying);  // the last batch failed
  CHECK(snapshot.batches_committed == 2);
  CHECK(snapshot.outcomes[0] == 6);
  auto json = worker::observe::to_json(snapshot);
  CHECK(contains(json,
                 "\"events\":{\"applied\":6,\"stale\":2,\"duplicate\":0,\"ignored\":0,"
                 "\"retried\":0,\"dead_lettered\":2}"));
  CHECK(contains(json,
                 "\"last_event\":{\"id\":\"msg_2\",\"type\":\"user.deleted\","
                 "\"source\":\"backfill\",\"topic\":\"clerk.events\",\"partition\":0,"
                 "\"offset\":7,\"committed_at\":\"2026-12-06T12:26:40.009Z\"}"));
  CHECK(contains(json,
                 "\"last_error\":{\"scope\":\"batch\",\"class\":\"08\","
                 "\"message\":\"connection lost\",\"event_id\":null,"
                 "\"at\":\"2026-12-06T12:26:40.010Z\"}"));
  CHECK(contains(json,
                 "\"lag\":{\"total\":12,\"measured_at\":\"2026-12-06T12:26:40.011Z\","
                 "\"partitions\":[{\"topic\":\"clerk.events\",\"partition\":0,\"lag\":5},"
                 "{\"topic\":\"clerk.events\",\"partition\":1,\"lag\":7}]}"));

  status.committed(outcomes, std::nullopt);
  CHECK_FALSE(status.snapshot().retrying);
  CHECK(status.snapshot().last_event->id == "msg_2");
}
