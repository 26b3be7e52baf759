#include "common/http/ops_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <stdexcept>

#include "common/config/env_reader.hpp"
#include "common/logging/logger.hpp"

namespace common::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kMaxRequestBytes = 64 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(30);

struct Route {
  Handler handler;
  HandlerThread thread = HandlerThread::kIo;
};
using Routes = std::map<std::string, std::map<std::string, Route>>;

Response call(const Handler& handler, const Request& request, logging::Logger& logger) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    logger.error("ops handler failed", {{"path", request.path}, {"error", e.what()}});
    return {500, json_error("internal", "internal error")};
  }
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Routes& routes, asio::thread_pool& blocking,
          logging::Logger& logger)
      : stream_(std::move(socket)), routes_(routes), blocking_(blocking), logger_(logger) {}

  void run() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxRequestBytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(kIdleTimeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      close();
      return;
    }
    if (ec) {
      int status = ec == bhttp::error::body_limit ? 413 : 400;
      respond(Response{status,
                       json_error(status == 413 ? "body_too_large" : "bad_request", ec.message())},
              false);
      return;
    }
    auto& req = parser_->get();
    Request request;
    request.method = std::string(req.method_string());
    std::string target(req.target());
    if (auto q = target.find('?'); q != std::string::npos) {
      request.query = target.substr(q + 1);
      target.resize(q);
    }
    request.path = target;
    request.body = req.body();
    request.authorization = std::string(req[bhttp::field::authorization]);
    bool keep_alive = req.keep_alive();

    auto route = routes_.find(request.path);
    if (route == routes_.end()) {
      respond({404, json_error("not_found", "no route " + request.path)}, keep_alive);
      return;
    }
    auto found = route->second.find(request.method);
    if (found == route->second.end()) {
      std::string allow;
      for (const auto& [method, r] : route->second)
        allow += (allow.empty() ? "" : ", ") + method;
      Response response{405, json_error("method_not_allowed", "use " + allow)};
      response.headers.emplace_back("Allow", allow);
      respond(std::move(response), keep_alive);
      return;
    }
    const Route& target_route = found->second;
    if (target_route.thread == HandlerThread::kIo) {
      respond(call(target_route.handler, request, logger_), keep_alive);
      return;
    }
    // The answer is written from the session's own strand once the handler is done.
    asio::post(blocking_, [self = shared_from_this(), &target_route, request = std::move(request),
                           keep_alive] {
      auto response = call(target_route.handler, request, self->logger_);
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), keep_alive]() mutable {
                   self->respond(std::move(response), keep_alive);
                 });
    });
  }

  void respond(Response response, bool keep_alive) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    res->set(bhttp::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers)
      res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(response.body);
    res->prepare_payload();
    bhttp::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || !keep_alive) {
            self->close();
            return;
          }
          self->read();
        });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const Routes& routes_;
  asio::thread_pool& blocking_;
  logging::Logger& logger_;
};

}  // namespace

struct OpsServer::Impl {
  Impl(std::string address, logging::Logger& log)
      : listen_address(std::move(address)), logger(log), acceptor(io) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        logger.warn("ops server accept failed", {{"error", ec.message()}});
      } else {
        std::make_shared<Session>(std::move(socket), routes, blocking, logger)->run();
      }
      accept();
    });
  }

  std::string listen_address;
  logging::Logger& logger;
  Routes routes;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::thread_pool blocking{1};
  std::thread thread;
  bool running = false;
};

OpsServer::OpsServer(std::string listen_address, logging::Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(listen_address), logger)) {}

OpsServer::~OpsServer() {
  stop();
}

void OpsServer::route(std::string method, std::string path, Handler handler, HandlerThread thread) {
  impl_->routes[std::move(path)][std::move(method)] = Route{std::move(handler), thread};
}

void OpsServer::start() {
  auto hp = config::parse_host_port(impl_->listen_address);
  if (!hp) throw std::runtime_error("invalid listen address '" + impl_->listen_address + "'");
  beast::error_code ec;
  auto address = asio::ip::make_address(hp->host.empty() ? "0.0.0.0" : hp->host, ec);
  if (ec) throw std::runtime_error("invalid listen host '" + hp->host + "': " + ec.message());
  tcp::endpoint endpoint(address, hp->port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl_->listen_address + ": " + ec.message());
  }
  impl_->accept();
  impl_->running = true;
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void OpsServer::stop() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // A blocking handler still running finishes; its answer is dropped with the I/O queue.
  impl_->blocking.stop();
  impl_->blocking.join();
}

std::uint16_t OpsServer::port() const {
  beast::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

std::string json_error(std::string_view code, std::string_view detail) {
  std::string out = "{\"error\":";
  logging::append_json_string(out, code);
  out += ",\"detail\":";
  logging::append_json_string(out, detail);
  out += '}';
  return out;
}

namespace {

// Calls `visit(name, raw_value)` for each non-empty "name[=value]" pair of `query`
// until it returns true.
template <typename Visit>
void walk_query(std::string_view query, Visit visit) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (visit(pair.substr(0, eq),
              eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1))) {
      return;
    }
  }
}

}  // namespace

std::set<std::string> query_names(std::string_view query) {
  std::set<std::string> names;
  walk_query(query, [&](std::string_view name, std::string_view) {
    names.emplace(name);
    return false;
  });
  return names;
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  std::optional<std::string_view> found;
  walk_query(query, [&](std::string_view key, std::string_view raw) {
    if (key == name) found = raw;
    return found.has_value();
  });
  if (!found) return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string_view raw = *found;
  std::string value;
  {
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        value += ' ';
      } else if (raw[i] != '%') {
        value += raw[i];
      } else {
        if (i + 2 >= raw.size()) return std::nullopt;
        int high = hex(raw[i + 1]);
        int low = hex(raw[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        value += static_cast<char>(high * 16 + low);
        i += 2;
      }
    }
  }
  return value;
}

bool bearer_matches(std::string_view authorization, std::string_view token) {
  // The scheme is case-insensitive (RFC 9110, 11.1).
  constexpr std::string_view kPrefix = "bearer ";
  if (token.empty() || authorization.size() < kPrefix.size()) return false;
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kPrefix[i]) return false;
  }
  std::string_view given = authorization.substr(kPrefix.size());
  if (given.size() != token.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return diff == 0;
}

}  // namespace common::http
