// The real clerk-mirror-ingress binary over raw sockets against the real broker
// (KAFKA_BROKERS): what is published for a signed request, every bad-input row's
// answer with nothing published, graceful stop, configuration errors.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "common/logging/logger.hpp"
#include "support/ingress_process.hpp"
#include "support/ingress_test_support.hpp"
#include "support/test_env.hpp"
#include "support/topic_reader.hpp"

using namespace ingress_test;
using namespace std::chrono_literals;
using common::kafka::ConsumedRecord;

namespace {

struct E2e {
  common::logging::Logger logger{"test", common::logging::Level::kError};
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  std::string topic = test_support::unique_name("ingress_e2e");
  ingress::signature::SignatureVerifier signer{
      std::vector<ingress::signature::WebhookSecret>{secret(kTestSecret), secret(kOtherSecret)},
      300s};
  std::unique_ptr<IngressProcess> ingress;

  explicit E2e(std::map<std::string, std::string> extra = {}) {
    create_topic(brokers, topic, logger);
    std::map<std::string, std::string> env = {
        {"KAFKA_BROKERS", brokers},
        {"KAFKA_TOPIC", topic},
        // Rotation: the sender signs with kTestSecret, configured second.
        {"CLERK_WEBHOOK_SECRET", std::string(kOtherSecret) + " " + std::string(kTestSecret)},
        {"INGRESS_HEADER_TIMEOUT_MS", "1000"},
        {"INGRESS_BODY_TIMEOUT_MS", "1000"},
        {"INGRESS_WRITE_TIMEOUT_MS", "1000"},
        {"INGRESS_IDLE_TIMEOUT_MS", "3000"},
        {"INGRESS_MAX_CONNECTIONS", "16"},
        {"INGRESS_MAX_BODY_BYTES", "65536"},
        {"INGRESS_PUBLISH_TIMEOUT_MS", "5000"},
        {"INGRESS_LOG_LEVEL", "info"}};
    for (auto& [k, v] : extra)
      env[k] = v;
    ingress = std::make_unique<IngressProcess>(env);
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto ready = exchange(port(), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
      if (ready && ready->status == 200) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL("the ingress never became ready: " << ingress->log());
  }
  std::uint16_t port() const { return ingress->port(); }

  /// Signed with the sender's secret (configured as entry 2 of 2).
  std::string request(std::string_view id, std::string_view body,
                      std::int64_t timestamp = now_seconds(), std::string_view extra = "",
                      std::string_view path = "/webhooks/clerk",
                      std::string_view content_type = "application/json") {
    std::string headers =
        "svix-id: " + std::string(id) + "\r\nsvix-timestamp: " + std::to_string(timestamp) +
        "\r\nsvix-signature: " + signer.sign(0, id, timestamp, body) + "\r\n" + std::string(extra);
    return post(body, headers, path, content_type);
  }

  /// Waits until only the asking connection is open (earlier clients are gone);
  /// false if that did not happen within 5 s. Each probe is a new connection, and
  /// the previous probe's may still be counted for a moment after it closed.
  bool wait_for_quiet() {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (connections() != 1) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  int connections() {
    auto metrics = exchange(port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    if (!metrics) return -1;
    std::size_t at = metrics->body.find("\nclerk_mirror_ingress_connections ");
    return at == std::string::npos ? -1 : std::stoi(metrics->body.substr(at + 34));
  }

  std::vector<ConsumedRecord> records_until(std::string_view event_id) {
    return read_topic(brokers, topic, logger, [event_id](const auto& records) {
      for (const auto& r : records) {
        if (header_of(r, "event-id") == event_id) return true;
      }
      return false;
    });
  }
};

}  // namespace

TEST_CASE("a signed request yields exactly one record: the exact body, the key, the headers",
          "[e2e][ingress]") {
  E2e e;
  struct Case {
    std::string id;
    std::string body;
    std::string key;
    std::string type;
  };
  std::vector<Case> cases = {
      {"msg_e2e_user",
       // Odd spacing, escapes and non-ASCII: the record must carry these exact bytes.
       "{ \"data\" : {\"id\":\"user_e2e\",\"first_name\":\"Zo\\u00eb \xf0\x9f\x98\x80\","
       "\"last_name\":\"O'Brien\\n\"} ,\"object\":\"event\",\"type\":\"user.created\","
       "\"timestamp\":1700000000123}\n",
       "user_e2e", "user.created"},
      {"msg_e2e_mem",
       envelope(
           "organizationMembership.created",
           R"({"id":"orgmem_1","organization":{"id":"org_e2e"},"public_user_data":{"user_id":"user_9"}})"),
       "org_e2e", "organizationMembership.created"},
      {"msg_e2e_session", envelope("session.created", R"({"id":"sess_1","user_id":"user_s"})"),
       "user_s", "session.created"},
      {"msg_e2e_future", envelope("user.banned", R"({"id":"user_b"})"), "user_b", "user.banned"},
  };
  std::int64_t sent_at = now_seconds();
  for (const Case& c : cases) {
    auto answer = exchange(e.port(), e.request(c.id, c.body, sent_at));
    REQUIRE(answer);
    CHECK(answer->status == 200);
    CHECK(answer->body == "{\"status\":\"accepted\"}");
  }
  auto records = e.records_until("msg_e2e_future");
  REQUIRE(records.size() == cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const ConsumedRecord& r = records[i];
    CAPTURE(c.id);
    CHECK(r.value == c.body);
    CHECK(r.key == std::optional<std::string>(c.key));
    CHECK(header_of(r, "event-id") == c.id);
    CHECK(header_of(r, "event-type") == c.type);
    CHECK(header_of(r, "event-timestamp") ==
          (i == 0 ? std::string("1700000000123") : std::string("1700000000000")));
    CHECK(header_of(r, "svix-timestamp") == std::to_string(sent_at));
    CHECK(header_of(r, "source") == "webhook");
    std::int64_t received = std::stoll(header_of(r, "received-at"));
    CHECK(received >= sent_at * 1000 - 1000);
    CHECK(received <= (now_seconds() + 1) * 1000);
    CHECK(r.timestamp_ms == received);
  }
}

TEST_CASE("a signed body as large as the limit is published whole", "[e2e][ingress]") {
  // The default limit, 1 MiB, is more than librdkafka's default message.max.bytes
  // (1,000,000): whatever the ingress accepts over HTTP must also fit in a record.
  E2e e(std::map<std::string, std::string>{{"INGRESS_MAX_BODY_BYTES", "1048576"}});
  std::string head = R"({"id":"user_big","public_metadata":{"blob":")";
  std::string tail = R"("}})";
  std::string shell = envelope("user.updated", head + tail);
  std::string body =
      envelope("user.updated", head + std::string(1048576 - shell.size(), 'x') + tail);
  REQUIRE(body.size() == 1048576);
  auto answer = exchange(e.port(), e.request("msg_e2e_big", body));
  REQUIRE(answer);
  CHECK(answer->status == 200);
  auto records = e.records_until("msg_e2e_big");
  REQUIRE(records.size() == 1);
  CHECK(records[0].value == body);
  CHECK(records[0].key == std::optional<std::string>("user_big"));
}

TEST_CASE("every bad-input row over a raw socket gets its answer and publishes nothing",
          "[e2e][ingress]") {
  E2e e;
  const std::string body = user_created("user_rows");
  const std::int64_t now = now_seconds();
  const std::string ts = std::to_string(now);
  const std::string head =
      "POST /webhooks/clerk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  auto sig = [&e, &now](std::string_view id, std::string_view b) {
    return e.signer.sign(0, id, now, b);
  };
  auto with_headers = [&body](std::string lines, const std::string& b = "") {
    return post(b.empty() ? body : b, lines);
  };
  std::string deep =
      R"({"type":"user.created","data":{"x":)" + std::string(70, '[') + std::string(70, ']') + "}}";
  std::string eleven;
  for (int i = 0; i < 10; ++i)
    eleven += "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ";
  eleven += sig("msg_r31", body);
  std::string altered = body;
  altered[altered.find("Ada")] = 'E';

  struct Row {
    int row;
    std::string bytes;
    int status;
    std::string code;
  };
  std::vector<Row> rows = {
      {1, "GET /webhooks/clerk HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed"},
      {2, e.request("msg_r2", body, now, "", "/webhooks/clerk/"), 404, "not_found"},
      {2, e.request("msg_r2b", body, now, "", "/webhooks%2Fclerk"), 404, "not_found"},
      {3, e.request("msg_r3", body, now, "", "/webhooks/clerk", "text/plain"), 415,
       "unsupported_media_type"},
      {4, e.request("msg_r4", body, now, "Content-Encoding: gzip\r\n"), 415,
       "unsupported_media_type"},
      {5, head + "Transfer-Encoding: gzip\r\n\r\n", 501, "unsupported_transfer_encoding"},
      {6, head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "invalid_framing"},
      {7, head + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, "invalid_content_length"},
      {8, head + "Content-Length: 70000\r\n\r\n", 413, "payload_too_large"},
      {9, head + "Transfer-Encoding: chunked\r\n\r\n10001\r\n" + std::string(1000, 'x'), 413,
       "payload_too_large"},
      {11, head + "Transfer-Encoding: chunked\r\n\r\nnothex\r\n", 400, "invalid_chunk"},
      {12, head + "Expect: 100-continue\r\nContent-Length: 900000\r\n\r\n", 413,
       "payload_too_large"},
      {13, "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"},
      {14, head + "X-Big: " + std::string(9000, 'b') + "\r\n\r\n", 431, "headers_too_large"},
      {15, head + "X-Name: Zo\xc3\xab\r\nContent-Length: 2\r\n\r\n{}", 400, "invalid_header"},
      {15, head + "X-Name: a\r\n folded\r\nContent-Length: 2\r\n\r\n{}", 400, "invalid_header"},
      {16, "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"},
      {21, with_headers("svix-id: msg_r21\r\nsvix-timestamp: " + ts + "\r\n"), 400,
       "missing_headers"},
      {21,
       with_headers("webhook-id: msg_r21\r\nwebhook-signature: " + sig("msg_r21", body) + "\r\n"),
       400, "missing_headers"},
      {22, e.request("msg_r22", body, now, "webhook-id: msg_other\r\n"), 400,
       "conflicting_headers"},
      {23, e.request("msg_r23", body, now, "svix-id: msg_r23\r\n"), 400, "duplicate_header"},
      {24,
       with_headers("svix-id: msg_r24\r\nsvix-timestamp: 1.5\r\nsvix-signature: " +
                    sig("msg_r24", body) + "\r\n"),
       400, "invalid_timestamp"},
      {25, e.request("msg_r25", body, now - 301), 401, "timestamp_too_old"},
      {26, e.request("msg_r26", body, now * 1000), 401, "timestamp_too_new"},
      {27,
       with_headers("svix-id: msg.r27\r\nsvix-timestamp: " + ts +
                    "\r\nsvix-signature: " + sig("msg.r27", body) + "\r\n"),
       400, "invalid_id"},
      {28,
       with_headers("svix-id: msg_r28\r\nsvix-timestamp: " + ts +
                    "\r\nsvix-signature: nocomma v1, v1,@@@ v1,QUJD\r\n"),
       401, "no_matching_signature"},
      {29,
       with_headers("svix-id: msg_r29\r\nsvix-timestamp: " + ts + "\r\nsvix-signature: v2," +
                    sig("msg_r29", body).substr(3) + "\r\n"),
       401, "no_matching_signature"},
      {31,
       with_headers("svix-id: msg_r31\r\nsvix-timestamp: " + ts + "\r\nsvix-signature: " + eleven +
                    "\r\n"),
       400, "invalid_signature_header"},
      {32,
       post(altered, "svix-id: msg_r32\r\nsvix-timestamp: " + ts +
                         "\r\nsvix-signature: " + sig("msg_r32", body) + "\r\n"),
       401, "no_matching_signature"},
      {33, e.request("msg_r33", ""), 400, "invalid_json"},
      {34, e.request("msg_r34", R"({"type":"user.created","data":{})"), 400, "invalid_json"},
      {35, e.request("msg_r35", "{\"type\":\"user.created\",\"data\":{\"n\":\"\xff\"}}"), 400,
       "invalid_utf8"},
      {36, e.request("msg_r36", R"({"type":"user.created","data":{"n":"\u0000"}})"), 400,
       "nul_in_string"},
      {37, e.request("msg_r37", deep), 400, "invalid_json"},
      {37, e.request("msg_r37b", R"({"type":"user.created","data":{"n":1e400}})"), 400,
       "invalid_json"},
      {38, e.request("msg_r38", R"({"type":"user.created","type":"x.y","data":{}})"), 400,
       "duplicate_key"},
      {39, e.request("msg_r39", R"({"type":"user.created","data":[]})"), 400, "invalid_envelope"},
      // Row 44: a request captured and replayed after the 5 minutes.
      {44, e.request("msg_r44", body, now - 400), 401, "timestamp_too_old"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.row, r.code);
    RawClient client(e.port());
    client.send(r.bytes);
    auto answer = client.response(3s);
    REQUIRE(answer);
    CHECK(answer->status == r.status);
    CHECK(answer->body.find("\"error\":\"" + r.code + "\"") != std::string::npos);
    if (r.row == 1) CHECK(answer->headers["allow"] == "POST");
    if (r.row == 12) CHECK(answer->status != 100);  // no interim 100 before the 413
    if (r.row >= 5 && r.row <= 16) CHECK(client.closed(2s));
  }

  // Rows 10, 17, 18: too slow, 408 and closed (timeouts are 1 s here).
  {
    INFO("row 10");
    RawClient client(e.port());
    client.send(head + "Content-Length: 100\r\n\r\n{\"type\":");
    auto answer = client.response(4s);
    REQUIRE(answer);
    CHECK(answer->status == 408);
    CHECK(client.closed(2s));
  }
  {
    INFO("row 17");
    RawClient client(e.port());
    std::string slow_head = head + "X-Slow: " + std::string(40, 's') + "\r\n";
    auto started = std::chrono::steady_clock::now();
    for (char c : slow_head) {
      if (!client.send(std::string(1, c)) || std::chrono::steady_clock::now() - started > 2s) break;
      std::this_thread::sleep_for(50ms);
    }
    auto answer = client.response(3s);
    REQUIRE(answer);
    CHECK(answer->status == 408);
    CHECK(client.closed(2s));
  }
  {
    INFO("row 18");
    RawClient client(e.port());
    client.send(head + "Content-Length: 500\r\n\r\n");
    auto started = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - started < 2s) {
      if (!client.send("x")) break;
      std::this_thread::sleep_for(100ms);
    }
    auto answer = client.response(3s);
    REQUIRE(answer);
    CHECK(answer->status == 408);
    CHECK(client.closed(2s));
  }
  {
    INFO("row 19: slow read is cut off after the write timeout");
    RawClient client(e.port(), 4096);
    std::string burst;
    for (int i = 0; i < 3000; ++i)
      burst += "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    client.send(burst);
    std::this_thread::sleep_for(2500ms);
    int answers = 0;
    while (client.response(500ms))
      ++answers;
    CHECK(answers < 3000);
    CHECK(client.closed(1s));
  }
  {
    INFO("row 20: over the connection cap");
    // Nothing left from the rows above (only the metrics probe's own connection),
    // so the 16 held connections are exactly the cap. The probe's session leaves
    // the server's count only once the server has read the probe's close: give it
    // that moment, or it takes a place among the 16 and is gone when `extra` comes.
    REQUIRE(e.wait_for_quiet());
    std::this_thread::sleep_for(500ms);
    std::vector<std::unique_ptr<RawClient>> held;
    for (int i = 0; i < 16; ++i)
      held.push_back(std::make_unique<RawClient>(e.port()));
    std::this_thread::sleep_for(200ms);
    RawClient extra(e.port());
    auto refused = extra.response(2s);
    INFO(e.ingress->log());
    REQUIRE(refused);
    CHECK(refused->status == 503);
    CHECK(refused->headers.count("retry-after") == 1);
    held[0]->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    auto ok = held[0]->response();
    REQUIRE(ok);
    CHECK(ok->status == 200);
  }

  e.wait_for_quiet();
  // The accepted rows: 30 (rotation), 40 (no data.id), 41 (unknown type), 42 (retry).
  std::string rotated = post(body, "svix-id: msg_r30\r\nsvix-timestamp: " + ts +
                                       "\r\nsvix-signature: v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/"
                                       "WavXrAFQ/9tdO6mc= " +
                                       sig("msg_r30", body) + "\r\n");
  CHECK(exchange(e.port(), rotated)->status == 200);
  std::string no_id = envelope("user.created", R"({"first_name":"A"})");
  CHECK(exchange(e.port(), e.request("msg_r40", no_id))->status == 200);
  std::string unknown = envelope("waitlistEntry.created", R"({"id":"wle_1"})");
  CHECK(exchange(e.port(), e.request("msg_r41", unknown))->status == 200);
  std::string retried = user_created("user_r42");
  CHECK(exchange(e.port(), e.request("msg_r42", retried, now))->status == 200);
  CHECK(exchange(e.port(), e.request("msg_r42", retried, now + 1))->status == 200);
  // Row 43: the same id with another body.
  auto reused = exchange(e.port(), e.request("msg_r42", user_created("user_other"), now + 2));
  REQUIRE(reused);
  CHECK(reused->status == 409);
  CHECK(reused->body.find("id_reuse") != std::string::npos);
  CHECK(exchange(e.port(), e.request("msg_sentinel", user_created("user_end")))->status == 200);

  auto records = e.records_until("msg_sentinel");
  std::vector<std::string> ids;
  for (const auto& r : records)
    ids.push_back(header_of(r, "event-id"));
  CHECK(ids ==
        std::vector<std::string>{"msg_r30", "msg_r40", "msg_r41", "msg_r42", "msg_sentinel"});
  REQUIRE(records.size() == 5);
  CHECK(records[1].key == std::optional<std::string>("msg_r40"));  // no data.id: the event id
  CHECK(records[2].value == unknown);
}

TEST_CASE("SIGTERM: in-flight requests finish, the producer flushes, exit 0", "[e2e][ingress]") {
  E2e e;
  RawClient client(e.port());
  client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");  // the connection is accepted
  REQUIRE(client.response());
  std::string body = user_created("user_term");
  client.send(e.request("msg_term", body));
  e.ingress->process().signal(SIGTERM);
  auto answer = client.response(10s);
  REQUIRE(answer);
  CHECK(answer->status == 200);
  REQUIRE(e.ingress->process().wait_for(20s));
  CHECK(e.ingress->process().wait() == 0);
  CHECK(e.ingress->log().find("\"msg\":\"stopped\"") != std::string::npos);
  CHECK_THROWS(RawClient(e.port()));
  auto records = e.records_until("msg_term");
  REQUIRE(records.size() == 1);
  CHECK(records[0].value == body);
}

TEST_CASE("bad configuration: exit 2 with one line per problem naming the variable",
          "[e2e][ingress]") {
  std::string ingress = test_support::binary("clerk-mirror-ingress");
  auto bad = test_support::run(
      isolated({ingress}, {{"KAFKA_BROKERS", "not a broker"},
                           {"CLERK_WEBHOOK_SECRET",
                            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_t0p-s3cret!"},
                           {"INGRESS_LISTEN", "nowhere"},
                           {"INGRESS_MAX_BODY_BYTES", "lots"}}),
      10s);
  CHECK(bad.code == 2);
  for (std::string variable :
       {"KAFKA_BROKERS", "CLERK_WEBHOOK_SECRET", "INGRESS_LISTEN", "INGRESS_MAX_BODY_BYTES"}) {
    CHECK(bad.out.find("clerk-mirror-ingress: " + variable + " ") != std::string::npos);
  }
  CHECK(bad.out.find("t0p-s3cret") == std::string::npos);
  CHECK(std::count(bad.out.begin(), bad.out.end(), '\n') == 4);

  auto bare = test_support::run(isolated({ingress}), 10s);
  CHECK(bare.code == 2);
  CHECK(bare.out.find("KAFKA_BROKERS is not set") != std::string::npos);
  CHECK(bare.out.find("CLERK_WEBHOOK_SECRET is not set") != std::string::npos);

  auto help = test_support::run(isolated({ingress, "--help"}), 10s);
  CHECK(help.code == 0);
  for (std::string variable : {"KAFKA_BROKERS", "KAFKA_TOPIC", "CLERK_WEBHOOK_SECRET",
                               "INGRESS_LISTEN", "INGRESS_THREADS", "INGRESS_PUBLISH_TIMEOUT_MS"}) {
    CHECK(help.out.find(variable) != std::string::npos);
  }
}
