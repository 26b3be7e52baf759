#include "ingress/http/http_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/config/env_reader.hpp"
#include "common/logging/logger.hpp"

namespace ingress::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::size_t kReadChunk = 8192;
constexpr std::size_t kLingerDiscardLimit = 256 * 1024;
constexpr std::chrono::milliseconds kLingerTime{1000};
}  // namespace

/// Answers for one io_context's connections. They arrive from other threads (the
/// Kafka delivery thread), many at a time: the first answer posts one drain and the
/// ones that come before it runs only join the queue, so a batch of delivery reports
/// wakes the I/O thread once, not once per answer. Closed when the server stops, so
/// nothing is posted to a destroyed io_context.
struct HttpServer::Mailbox {
  std::mutex mutex;
  bool open = true;
  bool drain_posted = false;
  asio::io_context* context = nullptr;
  std::vector<std::pair<std::weak_ptr<Session>, HttpResponse>> letters;
  std::vector<std::pair<std::weak_ptr<Session>, HttpResponse>> reading;  ///< I/O thread only

  void deliver(std::shared_ptr<Mailbox> self, std::weak_ptr<Session> to, HttpResponse response);
  void drain();
};

struct HttpServer::Impl {
  HttpServerSettings settings;
  RequestHandler& handler;
  ServerObserver& observer;
  common::logging::Logger& logger;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> accept_retry;
  std::size_t next_context = 0;
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;
  std::mutex sessions_mutex;
  std::list<std::weak_ptr<Session>> sessions;
  std::shared_ptr<std::function<void()>> accept_loop;
  std::string refusal;                              ///< the canned 503 for connections over the cap
  std::vector<std::shared_ptr<Mailbox>> mailboxes;  ///< one per io_context

  Impl(HttpServerSettings s, RequestHandler& h, ServerObserver& o, common::logging::Logger& l)
      : settings(std::move(s)), handler(h), observer(o), logger(l) {}
};

/// One connection. Every member is touched only on its io_context's thread, except
/// through the ResponseSlot (which posts back to that thread).
class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer& server, tcp::socket socket, std::shared_ptr<Mailbox> mailbox)
      : server_(server),
        impl_(*server.impl_),
        mailbox_(std::move(mailbox)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        parser_(impl_.settings.limits) {}

  ~Session() {
    if (registered_) {
      std::lock_guard lock(impl_.sessions_mutex);
      impl_.sessions.erase(registration_);
    }
    server_.connections_.fetch_sub(1);
    impl_.observer.on_connection_closed();
  }

  /// Called once, under sessions_mutex, right after the session joined the registry.
  void registered_at(std::list<std::weak_ptr<Session>>::iterator registration) {
    registration_ = registration;
    registered_ = true;
  }

  void start() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    begin_request();
    read();
  }

  asio::any_io_executor executor() { return socket_.get_executor(); }

  /// Graceful stop: idle connections close now; busy ones answer with Connection: close.
  /// A request already waiting in the socket counts as busy: it was sent before we
  /// stopped, so it is answered rather than cut off.
  void drain() {
    if (phase_ != Phase::kIdle && !(phase_ == Phase::kHead && !received_)) return;
    error_code ec;
    if (socket_.available(ec) > 0 && !ec) return;
    close();
  }

 private:
  enum class Phase { kIdle, kHead, kBody, kHandling, kWriting, kLingering, kClosed };

  // Deadlines are lazy: moving to a phase with a later deadline only records it; the
  // Asio timer is re-armed when it fires early, or when the new deadline is sooner.
  // Most requests therefore touch no timer at all (a re-armed Asio timer costs a
  // cancelled completion and often a timerfd update).
  void arm(Phase phase, std::chrono::milliseconds timeout) {
    phase_ = phase;
    deadline_ = Clock::now() + timeout;
    if (!timer_pending_ || deadline_ < timer_expiry_) start_timer();
  }

  void start_timer() {
    timer_pending_ = true;
    timer_expiry_ = deadline_;
    timer_.expires_at(timer_expiry_);
    timer_.async_wait([self = shared_from_this(), generation = ++timer_generation_](error_code ec) {
      if (generation != self->timer_generation_) return;  // superseded by a sooner deadline
      self->timer_pending_ = false;
      if (ec || self->phase_ == Phase::kClosed) return;
      if (Clock::now() < self->deadline_) return self->start_timer();
      self->on_timeout();
    });
  }

  void begin_request() {
    started_ = Clock::now();
    received_ = !in_.empty();
    arm(Phase::kHead, impl_.settings.header_timeout);
  }

  void read() {
    if (reading_ || phase_ == Phase::kClosed) return;
    reading_ = true;
    socket_.async_read_some(asio::buffer(read_buffer_.get(), kReadChunk),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              self->reading_ = false;
                              self->in_.append(self->read_buffer_.get(), n);
                              self->on_read(ec);
                            });
  }

  void on_read(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (phase_ == Phase::kLingering) {
      lingered_ += in_.size();
      in_.clear();
      if (ec || lingered_ > kLingerDiscardLimit) return close();
      return read();
    }
    if (ec) return close();  // peer gone or reset: nothing to answer
    if (phase_ == Phase::kIdle && !in_.empty()) begin_request();
    if (!in_.empty() && !received_) {
      // A new connection's first request: its header timeout runs from the accept, its
      // latency from its first byte.
      received_ = true;
      started_ = Clock::now();
    }
    if (phase_ == Phase::kHead || phase_ == Phase::kBody) process();
  }

  void process() {
    while (true) {
      std::size_t used = 0;
      RequestParser::Progress progress = parser_.feed(in_, used);
      in_.erase(0, used);
      switch (progress) {
        case RequestParser::Progress::kNeedMore:
          return read();
        case RequestParser::Progress::kError: {
          path_ = parser_.request().path;
          const ParseError& e = parser_.error();
          return respond(HttpResponse::error(e.status, e.code, e.detail), true);
        }
        case RequestParser::Progress::kHeadDone: {
          HttpRequest& request = parser_.request();
          request.started = started_;
          path_ = request.path;
          keep_alive_ = request.keep_alive;
          if (auto early = impl_.handler.check_head(request)) {
            // The body was not read: the connection cannot carry another request.
            return respond(std::move(*early), request.has_body());
          }
          if (request.has_body()) arm(Phase::kBody, impl_.settings.body_timeout);
          if (request.expect_continue && request.has_body() && in_.empty()) {
            return write_continue();
          }
          continue;
        }
        case RequestParser::Progress::kMessageDone:
          return dispatch();
      }
    }
  }

  void write_continue() {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    continue_pending_ = true;
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        self->continue_pending_ = false;
                        if (ec) return self->close();
                        if (self->phase_ == Phase::kBody) self->process();
                      });
  }

  void dispatch() {
    arm(Phase::kHandling, impl_.settings.handler_budget);
    auto slot = std::make_shared<ResponseSlot>();
    slot->deliver = [weak = weak_from_this(), mailbox = mailbox_](HttpResponse response) {
      mailbox->deliver(mailbox, weak, std::move(response));
    };
    slot_ = slot;
    handling_ = true;
    impl_.observer.on_handling(+1);
    Responder responder(slot);
    try {
      impl_.handler.handle(std::move(parser_.request()), responder);
    } catch (const std::exception& e) {
      impl_.logger.error("request handler failed", {{"path", path_}, {"detail", e.what()}});
      responder(HttpResponse::error(500, "internal", "internal error"));
    }
  }

  friend struct Mailbox;

  void on_answer(HttpResponse response) {
    if (phase_ != Phase::kHandling) return;
    respond(std::move(response), false);
  }

  void on_timeout() {
    switch (phase_) {
      case Phase::kIdle:
        return close();
      case Phase::kHead:
        // A connection that sent nothing is closed quietly; a partial request hears why.
        if (!received_) return close();
        return respond(HttpResponse::error(408, "request_timeout", "the request head was too slow"),
                       true);
      case Phase::kBody:
        // A client that does not even read the 100 Continue gets no second write on top
        // of it (two writes in flight would interleave): it is closed.
        if (continue_pending_) return close();
        return respond(HttpResponse::error(408, "request_timeout", "the request body was too slow"),
                       true);
      case Phase::kHandling:
        if (slot_ && !slot_->answered.exchange(true)) {
          respond(impl_.handler.budget_expired(), false);
        }
        return;
      case Phase::kWriting:
      case Phase::kLingering:
        return close();
      case Phase::kClosed:
        return;
    }
  }

  void respond(HttpResponse response, bool force_close) {
    if (phase_ == Phase::kClosed) return;
    if (handling_) {
      handling_ = false;
      impl_.observer.on_handling(-1);
    }
    slot_.reset();
    close_after_write_ = force_close || response.close || !keep_alive_ || server_.draining();
    impl_.observer.on_response(path_, response.status, response.error_code,
                               Clock::now() - started_);
    out_ = serialize(response, close_after_write_);
    arm(Phase::kWriting, impl_.settings.write_timeout);
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_written(ec); });
  }

  void on_written(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) return close();
    if (close_after_write_) return linger_close();
    parser_.reset();
    keep_alive_ = true;
    path_.clear();
    if (in_.empty()) {
      arm(Phase::kIdle, impl_.settings.idle_timeout);
      return read();
    }
    begin_request();  // a pipelined request is already buffered
    process();
  }

  // Half-close, then discard what the peer still sends for a moment: closing with
  // unread input would reset the connection and could destroy the answer in flight.
  void linger_close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm(Phase::kLingering, kLingerTime);
    in_.clear();
    lingered_ = 0;
    if (reading_) return;  // the pending read continues in kLingering
    read();
  }

  void close() {
    if (phase_ == Phase::kClosed) return;
    if (handling_) {
      handling_ = false;
      impl_.observer.on_handling(-1);
    }
    if (slot_) slot_->answered.store(true);  // a late answer has nowhere to go
    slot_.reset();
    phase_ = Phase::kClosed;
    ++timer_generation_;
    timer_.cancel();
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  HttpServer& server_;
  Impl& impl_;
  std::shared_ptr<Mailbox> mailbox_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  RequestParser parser_;
  std::list<std::weak_ptr<Session>>::iterator registration_;
  bool registered_ = false;
  Phase phase_ = Phase::kHead;
  std::uint64_t timer_generation_ = 0;
  Clock::time_point deadline_{};      ///< when the current phase times out
  Clock::time_point timer_expiry_{};  ///< when the pending Asio wait fires
  bool timer_pending_ = false;
  std::unique_ptr<char[]> read_buffer_{new char[kReadChunk]};
  std::string in_;
  std::string out_;
  std::string path_;
  Clock::time_point started_;
  std::shared_ptr<ResponseSlot> slot_;
  std::size_t lingered_ = 0;
  bool reading_ = false;
  bool received_ = false;          ///< a byte of the current request arrived
  bool continue_pending_ = false;  ///< the 100 Continue is still being written
  bool keep_alive_ = true;
  bool handling_ = false;
  bool close_after_write_ = false;
};

void HttpServer::Mailbox::deliver(std::shared_ptr<Mailbox> self, std::weak_ptr<Session> to,
                                  HttpResponse response) {
  std::lock_guard lock(mutex);
  if (!open) return;
  letters.emplace_back(std::move(to), std::move(response));
  if (drain_posted) return;
  drain_posted = true;
  asio::post(*context, [self = std::move(self)] { self->drain(); });
}

void HttpServer::Mailbox::drain() {
  {
    std::lock_guard lock(mutex);
    letters.swap(reading);
    drain_posted = false;
  }
  for (auto& [to, response] : reading) {
    if (auto session = to.lock()) session->on_answer(std::move(response));
  }
  reading.clear();
}

HttpServer::HttpServer(HttpServerSettings settings, RequestHandler& handler,
                       ServerObserver& observer, common::logging::Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(settings), handler, observer, logger)) {
  if (impl_->settings.threads < 1) impl_->settings.threads = 1;
}

HttpServer::~HttpServer() {
  stop();
}

namespace {

tcp::endpoint resolve_listen(asio::io_context& context, const std::string& listen) {
  auto host_port = common::config::parse_host_port(listen);
  if (!host_port)
    throw std::runtime_error("listen address must be host:port, got '" + listen + "'");
  std::string host = host_port->host.empty() ? "0.0.0.0" : host_port->host;
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, host_port->port);
  tcp::resolver resolver(context);
  auto results = resolver.resolve(host, std::to_string(host_port->port), ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot resolve listen host '" + host + "': " + ec.message());
  }
  return results.begin()->endpoint();
}

}  // namespace

void HttpServer::start() {
  Impl& impl = *impl_;
  if (impl.started) return;
  for (int i = 0; i < impl.settings.threads; ++i) {
    impl.contexts.push_back(std::make_unique<asio::io_context>(1));
    impl.mailboxes.push_back(std::make_shared<Mailbox>());
    impl.mailboxes.back()->context = impl.contexts.back().get();
    impl.guards.push_back(asio::make_work_guard(*impl.contexts.back()));
  }
  asio::io_context& first = *impl.contexts.front();
  tcp::endpoint endpoint = resolve_listen(first, impl.settings.listen);
  impl.acceptor = std::make_unique<tcp::acceptor>(first);
  impl.accept_retry = std::make_unique<asio::steady_timer>(first);
  error_code ec;
  impl.acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor->bind(endpoint, ec);
  if (!ec) impl.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl.settings.listen + ": " + ec.message());
  }
  impl.port = impl.acceptor->local_endpoint().port();
  impl.started = true;
  impl.refusal =
      serialize(HttpResponse::unavailable("too_many_connections", "connection limit reached",
                                          impl.settings.retry_after_seconds),
                true);

  // Each accept hands the new socket to the next io_context, round-robin.
  auto accept = std::make_shared<std::function<void()>>();
  *accept = [this, accept_weak = std::weak_ptr<std::function<void()>>(accept)]() {
    Impl& impl = *impl_;
    if (!impl.acceptor || !impl.acceptor->is_open()) return;
    std::size_t target = impl.next_context;
    impl.next_context = (impl.next_context + 1) % impl.contexts.size();
    impl.acceptor->async_accept(*impl.contexts[target], [this, accept_weak, target](
                                                            error_code ec, tcp::socket socket) {
      auto again = accept_weak.lock();
      if (!again) return;
      Impl& impl = *impl_;
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // EMFILE and friends: wait a little rather than spin.
        impl.logger.warn("accept failed", {{"detail", ec.message()}});
        impl.accept_retry->expires_after(std::chrono::milliseconds(50));
        impl.accept_retry->async_wait([again](error_code e) {
          if (!e) (*again)();
        });
        return;
      }
      if (connections_.load() >= impl.settings.max_connections) {
        // Over the cap: a best-effort 503 without waiting, then close.
        impl.observer.on_connection_refused();
        error_code ignored;
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(impl.refusal), ignored);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
      } else {
        connections_.fetch_add(1);
        impl.observer.on_connection_opened();
        auto session = std::make_shared<Session>(*this, std::move(socket), impl.mailboxes[target]);
        {
          std::lock_guard lock(impl.sessions_mutex);
          session->registered_at(impl.sessions.insert(impl.sessions.end(), session));
        }
        asio::post(session->executor(), [session] { session->start(); });
      }
      (*again)();
    });
  };
  impl.accept_loop = accept;
  asio::post(first, [accept] { (*accept)(); });
  for (auto& context : impl.contexts) {
    impl.threads.emplace_back([ctx = context.get()] { ctx->run(); });
  }
}

std::uint16_t HttpServer::port() const {
  return impl_->port;
}

void HttpServer::stop_accepting() {
  Impl& impl = *impl_;
  if (!impl.started || impl.contexts.empty()) return;
  std::promise<void> done;
  auto future = done.get_future();
  asio::post(*impl.contexts.front(), [&impl, &done] {
    error_code ignored;
    if (impl.acceptor) impl.acceptor->close(ignored);
    if (impl.accept_retry) impl.accept_retry->cancel();
    impl.accept_loop.reset();
    done.set_value();
  });
  future.wait();
}

bool HttpServer::drain(std::chrono::milliseconds budget) {
  Impl& impl = *impl_;
  draining_.store(true);
  auto deadline = Clock::now() + budget;
  while (true) {
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(impl.sessions_mutex);
      for (auto& weak : impl.sessions) {
        if (auto session = weak.lock()) live.push_back(std::move(session));
      }
    }
    for (auto& session : live) {
      asio::post(session->executor(), [session] { session->drain(); });
    }
    live.clear();
    if (connections_.load() == 0) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void HttpServer::stop() {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  stop_accepting();
  impl.guards.clear();
  for (auto& context : impl.contexts)
    context->stop();
  for (auto& thread : impl.threads)
    thread.join();
  impl.threads.clear();
  for (auto& mailbox : impl.mailboxes) {
    std::lock_guard lock(mailbox->mutex);
    mailbox->open = false;
  }
  // Sessions still referenced by pending handlers die with their io_context.
  impl.acceptor.reset();
  impl.accept_retry.reset();
  impl.contexts.clear();
}

}  // namespace ingress::http
