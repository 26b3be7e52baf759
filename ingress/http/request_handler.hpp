#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "ingress/http/http_message.hpp"

namespace ingress::http {

/// Where an answer goes. Shared by the Responder handed to a handler and the
/// server's budget timer: whichever answers first wins, the other is dropped.
struct ResponseSlot {
  std::atomic<bool> answered{false};
  std::function<void(HttpResponse)> deliver;  ///< posts to the connection's thread
};

/// Answers one request, once, from any thread. Copyable; later calls after the
/// first (or after the server's budget answered) return false and do nothing.
class Responder {
 public:
  explicit Responder(std::shared_ptr<ResponseSlot> slot) : slot_(std::move(slot)) {}
  bool operator()(HttpResponse response) const {
    if (slot_->answered.exchange(true)) return false;
    slot_->deliver(std::move(response));
    return true;
  }
  bool answered() const { return slot_->answered.load(); }

 private:
  std::shared_ptr<ResponseSlot> slot_;
};

/// What the server calls for each request. Implementations are shared by all I/O
/// threads and must be thread-safe. Exceptions thrown by handle() are caught by the
/// server, logged, and answered with 500.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  /// After the head, before the body is read: an early answer (404, 405, 415, 503)
  /// or nullopt to read the body. Must not block.
  virtual std::optional<HttpResponse> check_head(const HttpRequest& request) = 0;
  /// The complete request (the handler may move from it). Calls `respond` exactly
  /// once, on any thread; must not block the calling I/O thread.
  virtual void handle(HttpRequest&& request, Responder respond) = 0;
  /// What to answer when handle() did not respond within the server's budget.
  virtual HttpResponse budget_expired() = 0;
};

/// Told about every answer and connection, for metrics. Thread-safe; must not block.
class ServerObserver {
 public:
  virtual ~ServerObserver() = default;
  virtual void on_response(std::string_view path, int status, std::string_view error_code,
                           std::chrono::steady_clock::duration elapsed) = 0;
  virtual void on_connection_opened() = 0;
  virtual void on_connection_closed() = 0;
  virtual void on_connection_refused() = 0;
  virtual void on_handling(int delta) = 0;  ///< requests inside handle(), +1 / -1
};

}  // namespace ingress::http
