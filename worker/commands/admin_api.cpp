#include "worker/commands/admin_api.hpp"

#include <charconv>
#include <memory>
#include <set>
#include <variant>

#include "common/http/ops_server.hpp"
#include "common/logging/logger.hpp"
#include "worker/commands/backfill_launcher.hpp"
#include "worker/commands/summary_json.hpp"
#include "worker/observe/worker_status.hpp"
#include "worker/store/pg_mirror_store.hpp"
#include "worker/store/store_error.hpp"
#include "worker/sync/sync_commands.hpp"

namespace worker::commands {
namespace {

using common::http::HandlerThread;
using common::http::json_error;
using common::http::Request;
using common::http::Response;
using common::logging::json_string;

std::string time_or_null(std::int64_t epoch_ms) {
  return epoch_ms > 0 ? json_string(common::logging::rfc3339_ms(epoch_ms)) : "null";
}

std::optional<Response> unknown_parameter(const Request& request,
                                          const std::set<std::string>& allowed) {
  for (const auto& name : common::http::query_names(request.query)) {
    if (!allowed.contains(name)) {
      return Response{400, json_error("unknown_parameter", "unknown query parameter '" + name +
                                                               "' for " + request.path)};
    }
  }
  return std::nullopt;
}

std::string backfill_json(const BackfillLauncher::State& s) {
  std::string args = "[";
  for (const auto& a : s.args)
    args += (args.size() > 1 ? "," : "") + json_string(a);
  args += "]";
  return std::string("{\"running\":") + (s.running ? "true" : "false") +
         ",\"pid\":" + (s.pid > 0 ? std::to_string(s.pid) : "null") + ",\"args\":" + args +
         ",\"started_at\":" + time_or_null(s.started_at_ms) +
         ",\"finished_at\":" + time_or_null(s.finished_at_ms) +
         ",\"exit_code\":" + (s.exit_code ? std::to_string(*s.exit_code) : "null") + "}";
}

// `{"tables":...}` or, when the database cannot be read, `{"error":"..."}`.
std::string database_json(const AdminContext& c, bool& ok) {
  try {
    store::PgMirrorStore store(c.database_url, "", *c.logger);
    ok = true;
    return "{" + summary_members_json(store.summarize()) + "}";
  } catch (const std::exception& e) {
    ok = false;
    return "{\"error\":" + json_string(e.what()) + "}";
  }
}

// Flags of `clerk-mirror backfill` from the request's query, or the 400 answer.
std::variant<std::vector<std::string>, Response> backfill_args(const Request& request) {
  if (auto refused = unknown_parameter(request, {"entities", "dry_run", "restart"})) {
    return *refused;
  }
  std::vector<std::string> args;
  if (auto entities = common::http::query_value(request.query, "entities")) {
    std::string_view rest = *entities;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view name = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (name != "users" && name != "organizations" && name != "memberships") {
        return Response{
            400, json_error("bad_parameter", "entities: '" + std::string(name) +
                                                 "' is not users, organizations or memberships")};
      }
      args.push_back("--" + std::string(name));
    }
  }
  for (const auto& [parameter, flag] :
       {std::pair{"dry_run", "--dry-run"}, std::pair{"restart", "--restart"}}) {
    auto value = common::http::query_value(request.query, parameter);
    if (!value || *value == "false") continue;
    if (*value != "true" && !value->empty()) {
      return Response{
          400, json_error("bad_parameter", std::string(parameter) +
                                               ": expected true or false, got '" + *value + "'")};
    }
    args.emplace_back(flag);
  }
  return args;
}

}  // namespace

void add_admin_routes(common::http::OpsServer& server, AdminContext context) {
  auto c = std::make_shared<const AdminContext>(std::move(context));

  // Every admin route: the token first, then the handler.
  auto guarded = [c](auto handler) {
    return [c, handler](const Request& request) -> Response {
      if (c->token.empty()) {
        return {403, json_error("admin_disabled", "set ADMIN_TOKEN to enable the admin API")};
      }
      if (!common::http::bearer_matches(request.authorization, c->token)) {
        Response response{401,
                          json_error("unauthorized", "send Authorization: Bearer <ADMIN_TOKEN>")};
        response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"clerk-mirror\"");
        return response;
      }
      return handler(request);
    };
  };

  server.route("GET", "/admin/status", guarded([c](const Request& request) -> Response {
                 if (auto refused = unknown_parameter(request, {})) return *refused;
                 bool database_ok = false;
                 std::string database = database_json(*c, database_ok);
                 std::string out =
                     "{\"worker\":" + observe::to_json(c->status->snapshot()) +
                     ",\"backfill\":" + backfill_json(c->backfill->state()) +
                     ",\"database\":" + database + ",\"sync_runs\":" +
                     (database_ok ? worker::sync::sync_runs_json(c->database_url) : "null") + "}";
                 return {200, out};
               }),
               HandlerThread::kBlocking);

  server.route("GET", "/admin/database", guarded([c](const Request& request) -> Response {
                 if (auto refused = unknown_parameter(request, {})) return *refused;
                 bool ok = false;
                 std::string body = database_json(*c, ok);
                 if (!ok) return {503, json_error("database_unavailable", body)};
                 return {200, body};
               }),
               HandlerThread::kBlocking);

  server.route(
      "GET", "/admin/sync-runs", guarded([c](const Request& request) -> Response {
        if (auto refused = unknown_parameter(request, {"limit"})) return *refused;
        int limit = 20;
        if (auto text = common::http::query_value(request.query, "limit")) {
          auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
          if (ec != std::errc{} || end != text->data() + text->size() || limit < 1 || limit > 100) {
            return {400,
                    json_error("bad_parameter", "limit: expected 1 to 100, got '" + *text + "'")};
          }
        }
        std::string runs = worker::sync::sync_runs_json(c->database_url, limit);
        if (runs.starts_with("{")) return {503, json_error("database_unavailable", runs)};
        return {200, "{\"sync_runs\":" + runs + "}"};
      }),
      HandlerThread::kBlocking);

  server.route("GET", "/admin/backfill", guarded([c](const Request& request) -> Response {
                 if (auto refused = unknown_parameter(request, {})) return *refused;
                 return {200, backfill_json(c->backfill->state())};
               }));

  server.route("POST", "/admin/backfill", guarded([c](const Request& request) -> Response {
                 auto parsed = backfill_args(request);
                 if (auto* refused = std::get_if<Response>(&parsed)) return *refused;
                 if (!c->backfill_configured) {
                   return {503, json_error("backfill_unavailable",
                                           "CLERK_SECRET_KEY is not set in the worker's "
                                           "environment")};
                 }
                 auto args = std::get<std::vector<std::string>>(std::move(parsed));
                 auto result = c->backfill->start(args, c->clock());
                 switch (result.started) {
                   case BackfillLauncher::Started::kYes:
                     break;
                   case BackfillLauncher::Started::kAlreadyRunning:
                     return {409, json_error("backfill_running", result.detail)};
                   case BackfillLauncher::Started::kStopping:
                     return {503, json_error("stopping", result.detail)};
                   case BackfillLauncher::Started::kSpawnFailed:
                     c->logger->error("cannot start a backfill", {{"error", result.detail}});
                     return {500, json_error("backfill_not_started", result.detail)};
                 }
                 auto state = c->backfill->state();
                 c->logger->info("backfill started from the admin API", {{"pid", state.pid}});
                 Response response{202, backfill_json(state)};
                 response.headers.emplace_back("Location", "/admin/backfill");
                 return response;
               }));
}

}  // namespace worker::commands
