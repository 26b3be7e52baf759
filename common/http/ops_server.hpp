#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace common::logging {
class Logger;
}

namespace common::http {

/// What a route handler answers.
struct Response {
  Response(int status_code = 200, std::string response_body = {},
           std::string type = "application/json")
      : status(status_code), body(std::move(response_body)), content_type(std::move(type)) {}
  int status = 200;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// What a route handler sees of a request.
struct Request {
  std::string method;
  std::string path;   ///< without the query string
  std::string query;  ///< after '?', may be empty
  std::string body;
  std::string authorization;  ///< the Authorization header, may be empty
};

using Handler = std::function<Response(const Request&)>;

/// Where a route's handler runs: on the I/O thread (quick handlers: /healthz,
/// /metrics), or on the server's one blocking thread (database queries), so a slow
/// handler never holds up the others. Blocking handlers run one at a time.
enum class HandlerThread { kIo, kBlocking };

/// A small HTTP/1.1 server for operational endpoints (/healthz, /readyz,
/// /metrics, the admin API) on long-running processes other than the ingress
/// (which has its own hardened server). Built on Boost.Beast; one I/O thread
/// for quick handlers, one more for blocking ones (HandlerThread). Exact path match; unknown
/// paths get 404, a known path with the wrong method 405. Requests over 64 KiB
/// are refused. start() throws std::runtime_error when the address cannot be
/// bound. stop() is idempotent and joins the thread.
class OpsServer {
 public:
  OpsServer(std::string listen_address, logging::Logger& logger);
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  /// Registers a route before start(). `method` is "GET" or "POST".
  void route(std::string method, std::string path, Handler handler,
             HandlerThread thread = HandlerThread::kIo);
  void start();
  void stop();
  /// The bound port (useful with port 0).
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Renders `{"error":"<code>","detail":"<detail>"}`.
std::string json_error(std::string_view code, std::string_view detail);

/// The value of `name` in a query string ("a=1&b=2"), percent-decoded ('+' is a
/// space); nullopt when absent or badly encoded.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

/// The parameter names of a query string ("a=1&b" -> {a, b}), not decoded.
std::set<std::string> query_names(std::string_view query);

/// Constant-time check of `Authorization: Bearer <token>`; false when token is empty.
bool bearer_matches(std::string_view authorization, std::string_view token);

}  // namespace common::http
