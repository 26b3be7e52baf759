// The ingress HTTP server in process on port 0, over real loopback sockets, with a
// fake publisher: framing rows as raw bytes, the timing rows (10, 17, 18, 19), the
// connection cap (20), the publish budget (45), keep-alive and graceful drain.
#include "ingress/http/http_server.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <future>
#include <thread>

#include "common/events/envelope_codec.hpp"
#include "common/logging/logger.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "ingress/ingress_metrics.hpp"
#include "ingress/ingress_routes.hpp"
#include "ingress/webhook/webhook_handler.hpp"
#include "support/ingress_test_support.hpp"

using namespace ingress_test;
using namespace std::chrono_literals;
using ingress::publish::PublishStatus;

namespace {

struct Server {
  std::FILE* sink = std::fopen("/dev/null", "w");
  common::logging::Logger logger{"test", common::logging::Level::kError, sink};
  common::metrics::MetricsRegistry registry;
  ingress::IngressMetrics metrics{registry.registry(), 1};
  ingress::signature::SignatureVerifier verifier{
      std::vector<ingress::signature::WebhookSecret>{secret(kTestSecret)}, 300s};
  common::events::EnvelopeCodec codec;
  FakePublisher publisher;
  ingress::webhook::WebhookHandler webhook{
      {"clerk.events", 64, 3, 100},       verifier, codec, publisher, metrics, logger,
      [] { return now_seconds() * 1000; }};
  ingress::IngressRoutes routes{webhook, publisher, [this] { return registry.render(); }, 3};
  std::unique_ptr<ingress::http::HttpServer> server;

  explicit Server(ingress::http::HttpServerSettings settings = defaults()) {
    server = std::make_unique<ingress::http::HttpServer>(settings, routes, metrics, logger);
    server->start();
  }
  ~Server() {
    server.reset();
    std::fclose(sink);
  }
  static ingress::http::HttpServerSettings defaults() {
    ingress::http::HttpServerSettings s;
    s.listen = "127.0.0.1:0";
    s.threads = 2;
    s.header_timeout = 400ms;
    s.body_timeout = 400ms;
    s.idle_timeout = 2000ms;
    s.write_timeout = 400ms;
    s.handler_budget = 500ms;
    s.max_connections = 64;
    s.retry_after_seconds = 3;
    s.limits.max_body = 64 * 1024;
    return s;
  }
  std::uint16_t port() const { return server->port(); }
};

std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n" + std::string(extra) + "\r\n";
}

}  // namespace

TEST_CASE("keep-alive and pipelined requests are answered in order on one connection",
          "[unit][server]") {
  Server s;
  RawClient client(s.port());
  std::string body = user_created("user_ka");
  client.send(signed_post(s.verifier, "msg_ka1", body));
  auto first = client.response();
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->headers.count("connection") == 0);
  // Two more in one write: a webhook and a health check.
  client.send(signed_post(s.verifier, "msg_ka2", body) + get("/healthz"));
  auto second = client.response();
  auto third = client.response();
  REQUIRE(second);
  REQUIRE(third);
  CHECK(second->status == 200);
  CHECK(third->status == 200);
  CHECK(third->body == "{\"status\":\"ok\"}");
  CHECK(s.publisher.count() == 2);
  // Connection: close is honoured.
  client.send(get("/healthz", "Connection: close\r\n"));
  auto last = client.response();
  REQUIRE(last);
  CHECK(last->headers["connection"] == "close");
  CHECK(client.closed());
}

TEST_CASE("request latency runs from a request's first byte, not from the accept",
          "[unit][server]") {
  auto settings = Server::defaults();
  settings.header_timeout = 5s;
  Server s(settings);
  RawClient client(s.port());
  // Silent for longer than the histogram's 0.25 s bucket, well inside the header timeout.
  std::this_thread::sleep_for(300ms);
  client.send(get("/healthz"));
  auto answer = client.response();
  REQUIRE(answer);
  CHECK(answer->status == 200);
  std::string metrics = s.registry.render();
  INFO(metrics);
  CHECK_THAT(metrics, Catch::Contains("clerk_mirror_ingress_request_duration_seconds_bucket{"
                                      "route=\"healthz\",le=\"0.25\"} 1"));
}

TEST_CASE("framing errors over a socket: the table's status, then the connection closes",
          "[unit][server][row5][row6][row7][row8][row9][row11][row13][row14][row15][row16]") {
  Server s;
  const std::string head =
      "POST /webhooks/clerk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  std::string many_headers;
  for (int i = 0; i < 101; ++i)
    many_headers += "X-" + std::to_string(i) + ": v\r\n";
  struct Row {
    int row;
    std::string bytes;
    int status;
  };
  std::vector<Row> rows = {
      {5, head + "Transfer-Encoding: gzip\r\n\r\n", 501},
      {6, head + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {7, head + "Content-Length: 4\r\nContent-Length: 5\r\n\r\n{}{}", 400},
      {7, head + "Content-Length: -1\r\n\r\n", 400},
      {8, head + "Content-Length: 70000\r\n\r\n", 413},
      {9, head + "Transfer-Encoding: chunked\r\n\r\n10001\r\n" + std::string(100, 'x'), 413},
      {11, head + "Transfer-Encoding: chunked\r\n\r\nxyz\r\n", 400},
      {11, head + "Transfer-Encoding: chunked\r\n\r\n5;" + std::string(2000, 'e') + "\r\n", 400},
      {13, "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {14, head + "X-Big: " + std::string(9000, 'b') + "\r\n\r\n", 431},
      {14, head + many_headers + "\r\n", 431},
      {15, head + "X-A: caf\xc3\xa9\r\n\r\n", 400},
      {15, head + "X-A: v\r\n folded\r\n\r\n", 400},
      {16, "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {16, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
  };
  for (const Row& r : rows) {
    CAPTURE(r.row);
    RawClient client(s.port());
    client.send(r.bytes);
    auto answer = client.response();
    REQUIRE(answer);
    CHECK(answer->status == r.status);
    CHECK(answer->headers["connection"] == "close");
    CHECK(answer->body.find("\"error\":") != std::string::npos);
    CHECK(client.closed());
  }
  CHECK(s.publisher.count() == 0);
}

TEST_CASE("row 8: 413 comes before the body is sent", "[unit][server][row8]") {
  Server s;
  RawClient client(s.port());
  client.send(
      "POST /webhooks/clerk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 1000000\r\n\r\n");
  auto answer = client.response(1s);
  REQUIRE(answer);
  CHECK(answer->status == 413);
  CHECK(client.closed());
}

TEST_CASE("row 12: Expect: 100-continue gets 100 only when the request may proceed",
          "[unit][server][row12]") {
  Server s;
  {
    RawClient client(s.port());
    client.send(
        "POST /webhooks/clerk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Expect: 100-continue\r\nContent-Length: 5000000\r\n\r\n");
    auto answer = client.response(1s);
    REQUIRE(answer);
    CHECK(answer->status == 413);
    CHECK(client.closed());
  }
  {
    std::string body = user_created("user_expect");
    std::string request = signed_post(s.verifier, "msg_expect", body);
    std::size_t split = request.find("\r\n\r\n") + 4;
    std::string head = request.substr(0, split - 2) + "Expect: 100-continue\r\n\r\n";
    RawClient client(s.port());
    client.send(head);
    auto interim = client.response(1s);
    REQUIRE(interim);
    CHECK(interim->status == 100);
    client.send(request.substr(split));
    auto answer = client.response();
    REQUIRE(answer);
    CHECK(answer->status == 200);
  }
  {
    // A wrong path never gets a 100 either.
    RawClient client(s.port());
    client.send(
        "POST /nowhere HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        "Content-Length: 10\r\n\r\n");
    auto answer = client.response(1s);
    REQUIRE(answer);
    CHECK(answer->status == 404);
  }
}

TEST_CASE("row 10: a body shorter than Content-Length, then a stall, is 408 and closed",
          "[unit][server][row10]") {
  Server s;
  RawClient client(s.port());
  auto started = std::chrono::steady_clock::now();
  client.send(
      "POST /webhooks/clerk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 100\r\n\r\n{\"type\":");
  auto answer = client.response(3s);
  REQUIRE(answer);
  CHECK(answer->status == 408);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(client.closed());
}

TEST_CASE("row 17: headers trickled slower than the header timeout: 408 and closed",
          "[unit][server][row17]") {
  Server s;
  RawClient client(s.port());
  std::string head = "POST /webhooks/clerk HTTP/1.1\r\nHost: x\r\nX-Slow: abcdefghijklmnopq\r\n";
  auto started = std::chrono::steady_clock::now();
  for (char c : head) {
    if (!client.send(std::string(1, c))) break;
    std::this_thread::sleep_for(30ms);
    if (std::chrono::steady_clock::now() - started > 1200ms) break;
  }
  auto answer = client.response(2s);
  REQUIRE(answer);
  CHECK(answer->status == 408);
  CHECK(client.closed());
  CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("a connection that sends nothing is closed quietly after the header timeout",
          "[unit][server][row17]") {
  Server s;
  RawClient client(s.port());
  CHECK(client.closed(2s));
  CHECK(client.pending().empty());
}

TEST_CASE("row 18: a body trickled slower than the body timeout: 408 and closed",
          "[unit][server][row18]") {
  Server s;
  RawClient client(s.port());
  client.send(
      "POST /webhooks/clerk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 200\r\n\r\n");
  auto started = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - started < 1200ms) {
    if (!client.send("x")) break;
    std::this_thread::sleep_for(50ms);
  }
  auto answer = client.response(2s);
  REQUIRE(answer);
  CHECK(answer->status == 408);
  CHECK(client.closed());
}

TEST_CASE("row 19: a client that does not read its answers is cut off after the write timeout",
          "[unit][server][row19]") {
  Server s;
  RawClient client(s.port(), 4096);
  std::string burst;
  for (int i = 0; i < 3000; ++i)
    burst += get("/metrics");
  client.send(burst);
  std::this_thread::sleep_for(1500ms);  // not reading: the server's writes stall
  int answers = 0;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto answer = client.response(500ms);
    if (!answer) break;
    ++answers;
  }
  CHECK(answers < 3000);
  CHECK(client.closed(1s));
}

TEST_CASE("row 20: connections over the cap get 503 and existing traffic is unaffected",
          "[unit][server][row20]") {
  auto settings = Server::defaults();
  settings.max_connections = 4;
  settings.header_timeout = 3000ms;
  Server s(settings);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i)
    held.push_back(std::make_unique<RawClient>(s.port()));
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (s.server->connections() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(s.server->connections() == 4);
  RawClient extra(s.port());
  auto refused = extra.response(1s);
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->headers["retry-after"] == "3");
  CHECK(extra.closed());
  held[0]->send(get("/healthz"));
  auto ok = held[0]->response();
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(s.registry.render().find("clerk_mirror_ingress_connections_refused_total 1") !=
        std::string::npos);
}

TEST_CASE("row 45: no delivery report within the budget is 503 with Retry-After",
          "[unit][server][row45]") {
  Server s;
  s.publisher.hold();
  RawClient client(s.port());
  auto started = std::chrono::steady_clock::now();
  client.send(signed_post(s.verifier, "msg_slow", user_created("user_slow")));
  auto answer = client.response(3s);
  auto waited = std::chrono::steady_clock::now() - started;
  REQUIRE(answer);
  CHECK(answer->status == 503);
  CHECK(answer->headers["retry-after"] == "3");
  CHECK(answer->body.find("publish_timeout") != std::string::npos);
  CHECK(waited >= 450ms);
  CHECK(waited < 1500ms);
  // The late report is dropped; the connection carries on.
  s.publisher.release(PublishStatus::kPersisted);
  client.send(get("/healthz"));
  auto next = client.response();
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK(s.registry.render().find("clerk_mirror_ingress_publish_total{outcome=\"late\"} 1") !=
        std::string::npos);
}

TEST_CASE("graceful drain: idle connections close, in-flight requests finish, no new ones",
          "[unit][server]") {
  Server s;
  s.publisher.hold();
  RawClient idle(s.port());
  idle.send(get("/healthz"));
  REQUIRE(idle.response());
  RawClient busy(s.port());
  busy.send(signed_post(s.verifier, "msg_drain", user_created("user_drain")));
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (s.webhook.in_flight() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(s.webhook.in_flight() == 1);

  s.routes.begin_drain();
  s.server->stop_accepting();
  auto drained = std::async(std::launch::async, [&s] { return s.server->drain(3s); });
  CHECK(idle.closed(1s));
  std::this_thread::sleep_for(100ms);
  s.publisher.release(PublishStatus::kPersisted);
  auto answer = busy.response();
  REQUIRE(answer);
  CHECK(answer->status == 200);
  CHECK(answer->headers["connection"] == "close");
  CHECK(drained.get());
  CHECK_THROWS(RawClient(s.port()));
}
