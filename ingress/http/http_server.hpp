#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "ingress/http/request_handler.hpp"
#include "ingress/http/request_parser.hpp"

namespace common::logging {
class Logger;
}

namespace ingress::http {

/// HttpServer's knobs (from IngressConfig); timeouts close the connection.
struct HttpServerSettings {
  std::string listen = "0.0.0.0:8080";  ///< host:port; port 0 picks a free one
  int threads = 2;                      ///< I/O threads, one io_context each
  ParserLimits limits;
  std::chrono::milliseconds header_timeout{10000};  ///< first byte to end of head: 408
  std::chrono::milliseconds body_timeout{10000};    ///< end of head to end of body: 408
  std::chrono::milliseconds idle_timeout{60000};    ///< keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{10000};   ///< writing one answer; then close
  std::chrono::milliseconds handler_budget{10000};  ///< handle() to answer; then budget_expired()
  std::size_t max_connections = 1024;               ///< more are answered 503 and closed at once
  int retry_after_seconds = 5;
};

/// The ingress's internet-facing HTTP/1.1 server: Boost.Asio sockets and timers
/// around the strict RequestParser. Keep-alive and pipelining (answered in order,
/// one at a time), `Expect: 100-continue` (sent only after check_head() and the
/// size check passed), a timer on every phase (header, body, handling, write, idle)
/// and a connection cap. Framing errors are answered by the server itself with the
/// parser's status and `{"error","detail"}` body, then the connection is closed.
///
/// Threads: `threads` io_contexts, one thread each; the acceptor hands connections
/// out round-robin and a connection stays on its thread (no strands needed).
/// Owned by main; the handler, observer and logger must outlive it. start() throws
/// std::runtime_error when the address cannot be bound. Lifecycle: start(), then
/// stop_accepting() + drain() for a graceful stop, then stop() (idempotent, joins;
/// also run by the destructor).
class HttpServer {
 public:
  HttpServer(HttpServerSettings settings, RequestHandler& handler, ServerObserver& observer,
             common::logging::Logger& logger);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();
  std::uint16_t port() const;
  /// Closes the listening socket; open connections carry on.
  void stop_accepting();
  /// Answers what is in progress with `Connection: close`, closes idle connections,
  /// and waits up to `budget` for every connection to finish. True when none is left.
  bool drain(std::chrono::milliseconds budget);
  void stop();
  bool draining() const { return draining_.load(); }
  std::size_t connections() const { return connections_.load(); }

 private:
  class Session;
  struct Mailbox;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> connections_{0};
};

}  // namespace ingress::http
