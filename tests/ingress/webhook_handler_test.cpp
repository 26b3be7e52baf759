// The bad-input table against the handler, in process: one case per row (framing
// rows 5-20 are exercised on the parser and the in-process server instead).
#include "ingress/webhook/webhook_handler.hpp"

#include <catch2/catch.hpp>
#include <cstdio>

#include "common/events/envelope_codec.hpp"
#include "common/logging/logger.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "ingress/http/request_parser.hpp"
#include "ingress/ingress_metrics.hpp"
#include "ingress/ingress_routes.hpp"
#include "support/ingress_test_support.hpp"

using ingress::http::HttpRequest;
using ingress::http::HttpResponse;
using ingress::publish::PublishStatus;
using namespace ingress_test;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;

struct Answer {
  int status = 0;
  std::string code;
  std::string body;
  ingress::http::HeaderList headers;
  bool answered = false;
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

struct Fixture {
  std::FILE* sink = std::fopen("/dev/null", "w");
  common::logging::Logger logger{"test", common::logging::Level::kError, sink};
  common::metrics::MetricsRegistry registry;
  ingress::IngressMetrics metrics{registry.registry(), 2};
  ingress::signature::SignatureVerifier verifier{
      std::vector<ingress::signature::WebhookSecret>{secret(kTestSecret), secret(kOtherSecret)},
      std::chrono::seconds(300)};
  common::events::EnvelopeCodec codec;
  FakePublisher publisher;
  std::atomic<std::int64_t> now_ms{kNow * 1000};
  ingress::webhook::WebhookHandler webhook{
      {"clerk.events", 4, 7, 100},     verifier, codec, publisher, metrics, logger,
      [this] { return now_ms.load(); }};
  ingress::IngressRoutes routes{webhook, publisher, [this] { return registry.render(); }, 7};
  std::vector<std::shared_ptr<Answer>> pending;

  ~Fixture() { std::fclose(sink); }

  // What the server does with raw bytes: parse, check_head, handle.
  std::shared_ptr<Answer> start(std::string_view raw) {
    auto answer = std::make_shared<Answer>();
    ingress::http::RequestParser parser;
    std::string buffer(raw);
    std::size_t used = 0;
    auto progress = parser.feed(buffer, used);
    buffer.erase(0, used);
    auto fill = [answer](const HttpResponse& r) {
      answer->status = r.status;
      answer->code = r.error_code;
      answer->body = r.body;
      answer->headers = r.headers;
      answer->answered = true;
    };
    if (progress == ingress::http::RequestParser::Progress::kError) {
      fill(HttpResponse::error(parser.error().status, parser.error().code, parser.error().detail));
      return answer;
    }
    REQUIRE(progress == ingress::http::RequestParser::Progress::kHeadDone);
    if (auto early = routes.check_head(parser.request())) {
      fill(*early);
      return answer;
    }
    progress = parser.feed(buffer, used);
    REQUIRE(progress == ingress::http::RequestParser::Progress::kMessageDone);
    auto slot = std::make_shared<ingress::http::ResponseSlot>();
    slot->deliver = fill;
    try {
      routes.handle(std::move(parser.request()), ingress::http::Responder(slot));
    } catch (const std::exception&) {
      fill(HttpResponse::error(500, "internal", "internal error"));  // the server's catch
    }
    return answer;
  }

  Answer run(std::string_view raw) {
    auto answer = start(raw);
    REQUIRE(answer->answered);
    return *answer;
  }

  std::string sign(std::string_view id, std::string_view body, std::int64_t ts = kNow,
                   std::size_t secret_index = 0) {
    return verifier.sign(secret_index, id, ts, body);
  }

  std::string signed_request(std::string_view id, std::string_view body,
                             std::string_view extra = "", std::int64_t ts = kNow) {
    return post(body, "svix-id: " + std::string(id) + "\r\nsvix-timestamp: " + std::to_string(ts) +
                          "\r\nsvix-signature: " + sign(id, body, ts) + "\r\n" +
                          std::string(extra));
  }

  std::string metric(std::string_view series) {
    std::string text = registry.render();
    std::size_t at = text.find("\n" + std::string(series) + " ");
    if (at == std::string::npos) return "";
    std::size_t start = at + series.size() + 2;
    return text.substr(start, text.find('\n', start) - start);
  }
};

// A rejection: the status and code, and nothing was published.
void check_rejected(Fixture& f, std::string_view raw, int status, std::string_view code) {
  std::size_t before = f.publisher.count();
  Answer a = f.run(raw);
  CHECK(a.status == status);
  CHECK(a.code == code);
  CHECK(a.body.find("\"error\":\"" + std::string(code) + "\"") != std::string::npos);
  CHECK(a.body.find("\"detail\":") != std::string::npos);
  CHECK(f.publisher.count() == before);
}

const std::string kBody = user_created("user_1");

}  // namespace

TEST_CASE("a signed envelope is published as the exact bytes, keyed and with headers",
          "[unit][webhook]") {
  Fixture f;
  std::string body = envelope("organizationMembership.created",
                              R"({"id":"orgmem_1","organization":{"id":"org_7"}})", "1700000000");
  Answer a = f.run(f.signed_request("msg_ok", body));
  CHECK(a.status == 200);
  CHECK(a.body == "{\"status\":\"accepted\"}");
  REQUIRE(f.publisher.published.size() == 1);
  const auto& record = f.publisher.published[0];
  CHECK(record.topic == "clerk.events");
  CHECK(record.value == body);
  CHECK(record.key == "org_7");
  CHECK(record.timestamp_ms == kNow * 1000);
  auto header = [&record](std::string_view name) {
    auto* h = common::kafka::find_header(record.headers, name);
    return h ? h->value : std::string("<none>");
  };
  CHECK(header("event-id") == "msg_ok");
  CHECK(header("event-type") == "organizationMembership.created");
  CHECK(header("event-timestamp") == "1700000000000");  // seconds normalised to ms
  CHECK(header("svix-timestamp") == std::to_string(kNow));
  CHECK(header("source") == "webhook");
  CHECK(header("received-at") == std::to_string(kNow * 1000));
  CHECK(f.metric("clerk_mirror_ingress_secret_matches_total{secret=\"0\"}") == "1");
  CHECK(f.metric("clerk_mirror_ingress_publish_total{outcome=\"persisted\"}") == "1");
}

TEST_CASE("row 1: other methods on the webhook path get 405 with Allow", "[unit][webhook][row1]") {
  Fixture f;
  for (std::string method : {"GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
    Answer a = f.run(method + " /webhooks/clerk HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(a.status == 405);
    CHECK(a.header("Allow") == "POST");
    CHECK(a.code == "method_not_allowed");
  }
  Answer ops = f.run("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  CHECK(ops.status == 405);
  CHECK(ops.header("Allow") == "GET");
}

TEST_CASE("row 2: unknown paths, trailing slashes and encoding tricks get 404",
          "[unit][webhook][row2]") {
  Fixture f;
  for (std::string path :
       {"/", "/webhooks/clerk/", "/webhooks/Clerk", "/webhooks%2Fclerk", "/webhooks/clerk%20",
        "//webhooks/clerk", "/webhooks/./clerk", "/webhooks/x/../clerk", "http://x/webhooks/clerk",
        "*", "/webhooks/clerk;x", "/webhooks/clerk#a"}) {
    CAPTURE(path);
    check_rejected(f, post(kBody, "", path), 404, "not_found");
  }
  // The query string is ignored.
  std::string body = user_created("user_q");
  std::string request = f.signed_request("msg_q", body);
  request.replace(0, std::string("POST /webhooks/clerk").size(), "POST /webhooks/clerk?a=1");
  CHECK(f.run(request).status == 200);
}

TEST_CASE("row 3: a content type other than application/json gets 415", "[unit][webhook][row3]") {
  Fixture f;
  for (std::string type : {"text/plain", "application/x-www-form-urlencoded", "application/jsonx",
                           "application/json; charset=latin1", "multipart/form-data"}) {
    CAPTURE(type);
    check_rejected(f, post(kBody, "", "/webhooks/clerk", type), 415, "unsupported_media_type");
  }
  check_rejected(f, post(kBody, "", "/webhooks/clerk", ""), 415, "unsupported_media_type");
  check_rejected(f, post(kBody, "Content-Type: application/json\r\n"), 415,
                 "unsupported_media_type");  // two Content-Type headers
  std::string body = user_created("user_ct");
  std::string id = "msg_ct";
  std::string headers = "svix-id: " + id + "\r\nsvix-timestamp: " + std::to_string(kNow) +
                        "\r\nsvix-signature: " + f.sign(id, body) + "\r\n";
  CHECK(f.run(post(body, headers, "/webhooks/clerk", "application/json; charset=utf-8")).status ==
        200);
  CHECK(
      f.run(post(body, headers, "/webhooks/clerk", "Application/JSON;charset=\"UTF-8\"")).status ==
      200);
}

TEST_CASE("row 4: compressed bodies get 415", "[unit][webhook][row4]") {
  Fixture f;
  for (std::string encoding : {"gzip", "br", "deflate", "gzip, identity"}) {
    check_rejected(f, f.signed_request("msg_gz", kBody, "Content-Encoding: " + encoding + "\r\n"),
                   415, "unsupported_media_type");
  }
  CHECK(f.run(f.signed_request("msg_id", kBody, "Content-Encoding: identity\r\n")).status == 200);
}

TEST_CASE("row 21: missing id, timestamp or signature under both names is 400",
          "[unit][webhook][row21]") {
  Fixture f;
  std::string sig = f.sign("msg_1", kBody);
  std::string ts = std::to_string(kNow);
  check_rejected(f, post(kBody, "svix-timestamp: " + ts + "\r\nsvix-signature: " + sig + "\r\n"),
                 400, "missing_headers");
  check_rejected(f, post(kBody, "svix-id: msg_1\r\nsvix-signature: " + sig + "\r\n"), 400,
                 "missing_headers");
  check_rejected(f, post(kBody, "webhook-id: msg_1\r\nwebhook-timestamp: " + ts + "\r\n"), 400,
                 "missing_headers");
  check_rejected(f, post(kBody, ""), 400, "missing_headers");
  // Header names are case-insensitive; the webhook-* family alone is enough.
  CHECK(f.run(post(kBody, "WEBHOOK-ID: msg_1\r\nWebhook-Timestamp: " + ts +
                              "\r\nwebhook-SIGNATURE: " + sig + "\r\n"))
            .status == 200);
}

TEST_CASE("row 22: svix-* and webhook-* with different values is 400", "[unit][webhook][row22]") {
  Fixture f;
  check_rejected(f, f.signed_request("msg_1", kBody, "webhook-id: msg_2\r\n"), 400,
                 "conflicting_headers");
  CHECK(f.run(f.signed_request("msg_1", kBody, "webhook-id: msg_1\r\n")).status == 200);
}

TEST_CASE("row 23: a repeated header is 400", "[unit][webhook][row23]") {
  Fixture f;
  check_rejected(f, f.signed_request("msg_1", kBody, "svix-id: msg_1\r\n"), 400,
                 "duplicate_header");
  check_rejected(f, f.signed_request("msg_1", kBody, "Svix-Signature: v1,AAAA\r\n"), 400,
                 "duplicate_header");
}

TEST_CASE("row 24: a timestamp that is not a plain integer is 400", "[unit][webhook][row24]") {
  Fixture f;
  for (std::string ts : {"hello", "1.5", "+123", "", "12345678901234567890", "1e9"}) {
    CAPTURE(ts);
    check_rejected(f,
                   post(kBody, "svix-id: msg_1\r\nsvix-timestamp: " + ts +
                                   "\r\nsvix-signature: " + f.sign("msg_1", kBody) + "\r\n"),
                   400, "invalid_timestamp");
  }
}

TEST_CASE("rows 25, 26, 44: old, future and replayed timestamps are 401",
          "[unit][webhook][row25][row26][row44]") {
  Fixture f;
  check_rejected(f, f.signed_request("msg_old", kBody, "", kNow - 301), 401, "timestamp_too_old");
  check_rejected(f, f.signed_request("msg_new", kBody, "", kNow + 301), 401, "timestamp_too_new");
  check_rejected(f, f.signed_request("msg_ms", kBody, "", kNow * 1000), 401, "timestamp_too_new");
  CHECK(f.run(f.signed_request("msg_edge1", kBody, "", kNow - 300)).status == 200);
  CHECK(f.run(f.signed_request("msg_edge2", kBody, "", kNow + 300)).status == 200);
  // Row 44: a request captured now and replayed five minutes later.
  std::string captured = f.signed_request("msg_replay", user_created("user_r"));
  f.now_ms += 301'000;
  check_rejected(f, captured, 401, "timestamp_too_old");
}

TEST_CASE("row 27: invalid ids are 400", "[unit][webhook][row27]") {
  Fixture f;
  for (std::string id : {std::string(""), std::string("msg.1"), std::string(257, 'a')}) {
    check_rejected(f,
                   post(kBody, "svix-id: " + id + "\r\nsvix-timestamp: " + std::to_string(kNow) +
                                   "\r\nsvix-signature: " + f.sign(id, kBody) + "\r\n"),
                   400, "invalid_id");
  }
}

TEST_CASE("rows 28, 29: malformed entries or unknown versions only: 401",
          "[unit][webhook][row28][row29]") {
  Fixture f;
  std::string good = f.sign("msg_1", kBody);
  std::string value = good.substr(3);
  for (std::string sig :
       {std::string("nocomma"), std::string("v1,"), std::string("v1,!!notbase64!!"),
        std::string("v1,QUJD"), "v2," + value, "v1a," + value, "v2," + value + " v1a," + value}) {
    CAPTURE(sig);
    check_rejected(f,
                   post(kBody, "svix-id: msg_1\r\nsvix-timestamp: " + std::to_string(kNow) +
                                   "\r\nsvix-signature: " + sig + "\r\n"),
                   401, "no_matching_signature");
  }
  // Malformed entries are skipped when a valid one follows.
  CHECK(f.run(post(kBody, "svix-id: msg_1\r\nsvix-timestamp: " + std::to_string(kNow) +
                              "\r\nsvix-signature: nocomma v1, v1,QUJD " + good + "\r\n"))
            .status == 200);
}

TEST_CASE("row 30: several signatures with one valid (rotation) is accepted",
          "[unit][webhook][row30]") {
  Fixture f;
  std::string body = user_created("user_rot");
  std::string new_key = f.sign("msg_rot", body, kNow, 1);
  std::string header = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + new_key;
  CHECK(f.run(post(body, "svix-id: msg_rot\r\nsvix-timestamp: " + std::to_string(kNow) +
                             "\r\nsvix-signature: " + header + "\r\n"))
            .status == 200);
  CHECK(f.metric("clerk_mirror_ingress_secret_matches_total{secret=\"1\"}") == "1");
}

TEST_CASE("row 31: more than 10 signature entries or a header over 4 KiB is 400",
          "[unit][webhook][row31]") {
  Fixture f;
  std::string good = f.sign("msg_1", kBody);
  std::string eleven;
  for (int i = 0; i < 10; ++i)
    eleven += "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ";
  eleven += good;
  std::string ts = std::to_string(kNow);
  check_rejected(f,
                 post(kBody, "svix-id: msg_1\r\nsvix-timestamp: " + ts +
                                 "\r\nsvix-signature: " + eleven + "\r\n"),
                 400, "invalid_signature_header");
  check_rejected(f,
                 post(kBody, "svix-id: msg_1\r\nsvix-timestamp: " + ts + "\r\nsvix-signature: v9," +
                                 std::string(4200, 'A') + " " + good + "\r\n"),
                 400, "invalid_signature_header");
}

TEST_CASE("row 32: an altered or re-serialised body is 401", "[unit][webhook][row32]") {
  Fixture f;
  std::string headers = svix_headers(f.verifier, "msg_alt", kNow, kBody);
  std::string altered = kBody;
  altered[altered.find("Ada")] = 'E';
  check_rejected(f, post(altered, headers), 401, "no_matching_signature");
  std::string reserialised = kBody;
  reserialised.insert(1, " ");
  check_rejected(f, post(reserialised, headers), 401, "no_matching_signature");
}

TEST_CASE("rows 33-39: signed bodies that are not usable envelopes are 400, nothing published",
          "[unit][webhook][row33][row34][row35][row36][row37][row38][row39]") {
  Fixture f;
  std::string deep = R"({"type":"user.created","data":{"x":)";
  for (int i = 0; i < 70; ++i)
    deep += "[";
  for (int i = 0; i < 70; ++i)
    deep += "]";
  deep += "}}";
  struct Row {
    int row;
    std::string body;
    std::string code;
  };
  std::vector<Row> rows = {
      {33, "", "invalid_json"},
      {34, R"({"type":"user.created","data":{})", "invalid_json"},
      {34, R"({"type":"user.created","data":{}}garbage)", "invalid_json"},
      {34, "\xEF\xBB\xBF{\"type\":\"user.created\",\"data\":{}}", "invalid_json"},
      {34, R"({"type":"user.created",/*c*/"data":{}})", "invalid_json"},
      {34, R"({"type":"user.created","data":{"n":NaN}})", "invalid_json"},
      {35, "{\"type\":\"user.created\",\"data\":{\"n\":\"\xc0\xaf\"}}", "invalid_utf8"},
      {36, R"({"type":"user.created","data":{"n":"\u0000"}})", "nul_in_string"},
      {37, deep, "invalid_json"},
      {37, R"({"type":"user.created","data":{"n":1e400}})", "invalid_json"},
      {37, "{\"type\":\"user.created\",\"data\":{\"n\":" + std::string(400, '7') + "}}",
       "invalid_json"},
      {38, R"({"type":"user.created","type":"user.updated","data":{}})", "duplicate_key"},
      {38, R"({"type":"user.created","data":{"id":"user_1","id":"user_2"}})", "duplicate_key"},
      {39, R"(["user.created"])", "invalid_envelope"},
      {39, R"({"data":{}})", "invalid_envelope"},
      {39, R"({"type":"user.created","data":"x"})", "invalid_envelope"},
      {39, R"({"type":1,"data":{}})", "invalid_envelope"},
  };
  int n = 0;
  for (const Row& r : rows) {
    CAPTURE(r.row, r.body);
    check_rejected(f, f.signed_request("msg_bad_" + std::to_string(n++), r.body), 400, r.code);
  }
}

TEST_CASE("rows 40, 41: unusable or unknown types are accepted and published",
          "[unit][webhook][row40][row41]") {
  Fixture f;
  std::string no_id = envelope("user.created", R"({"first_name":"A"})");
  CHECK(f.run(f.signed_request("msg_noid", no_id)).status == 200);
  std::string wrong_prefix = envelope("user.created", R"({"id":"org_1"})");
  CHECK(f.run(f.signed_request("msg_prefix", wrong_prefix)).status == 200);
  std::string unknown = envelope("user.banned", R"({"id":"user_9"})");
  CHECK(f.run(f.signed_request("msg_unknown", unknown)).status == 200);
  std::string session = envelope("session.created", R"({"id":"sess_1","user_id":"user_4"})");
  CHECK(f.run(f.signed_request("msg_session", session)).status == 200);
  REQUIRE(f.publisher.published.size() == 4);
  CHECK(f.publisher.published[0].key == "msg_noid");  // no data.id: the event id
  CHECK(f.publisher.published[1].key == "org_1");
  CHECK(f.publisher.published[2].key == "user_9");
  CHECK(f.publisher.published[3].key == "user_4");
  CHECK(f.publisher.published[2].value == unknown);
}

TEST_CASE("rows 42, 43: a retry is accepted once; the same id with another body is 409",
          "[unit][webhook][row42][row43]") {
  Fixture f;
  std::string body = user_created("user_dup");
  CHECK(f.run(f.signed_request("msg_dup", body)).status == 200);
  // The retry carries a fresh timestamp and signature.
  f.now_ms += 60'000;
  Answer retry = f.run(f.signed_request("msg_dup", body, "", kNow + 60));
  CHECK(retry.status == 200);
  CHECK(f.publisher.count() == 1);  // no second record
  CHECK(f.metric("clerk_mirror_ingress_duplicate_deliveries_total") == "1");
  check_rejected(f, f.signed_request("msg_dup", user_created("user_other"), "", kNow + 60), 409,
                 "id_reuse");
  // A retry after a failed publish is published again.
  f.publisher.inject_failure(PublishStatus::kFailed);
  CHECK(f.run(f.signed_request("msg_retry", body, "", kNow + 60)).status == 503);
  f.publisher.inject_failure(PublishStatus::kPersisted);
  CHECK(f.run(f.signed_request("msg_retry", body, "", kNow + 60)).status == 200);
  CHECK(f.publisher.count() == 3);
}

TEST_CASE("row 45: a failed or refused publish is 503 with Retry-After, never 2xx",
          "[unit][webhook][row45]") {
  Fixture f;
  f.publisher.inject_failure(PublishStatus::kFailed);
  Answer failed = f.run(f.signed_request("msg_f1", kBody));
  CHECK(failed.status == 503);
  CHECK(failed.code == "publish_failed");
  CHECK(failed.header("Retry-After") == "7");
  f.publisher.inject_failure(PublishStatus::kQueueFull);
  Answer full = f.run(f.signed_request("msg_f2", kBody));
  CHECK(full.status == 503);
  CHECK(full.header("Retry-After") == "7");
  // A record the topic refuses for its size would be refused again: 413, not 503.
  f.publisher.inject_failure(PublishStatus::kTooLarge);
  Answer large = f.run(f.signed_request("msg_f3", kBody));
  CHECK(large.status == 413);
  CHECK(large.code == "payload_too_large");
  CHECK(large.header("Retry-After").empty());
  CHECK(f.webhook.in_flight() == 0);
  // The server's budget answer (what the delivery report did not beat).
  HttpResponse budget = f.routes.budget_expired();
  CHECK(budget.status == 503);
  CHECK(budget.error_code == "publish_timeout");
}

TEST_CASE("row 46: over the in-flight cap the answer is 503 with Retry-After",
          "[unit][webhook][row46]") {
  Fixture f;
  f.publisher.hold();
  std::vector<std::shared_ptr<Answer>> waiting;
  for (int i = 0; i < 4; ++i) {
    waiting.push_back(f.start(f.signed_request("msg_w" + std::to_string(i), kBody)));
    CHECK_FALSE(waiting.back()->answered);
  }
  CHECK(f.webhook.in_flight() == 4);
  Answer over = f.run(f.signed_request("msg_w4", kBody));
  CHECK(over.status == 503);
  CHECK(over.code == "overloaded");
  CHECK(over.header("Retry-After") == "7");
  f.publisher.release(PublishStatus::kPersisted);
  for (auto& a : waiting)
    CHECK(a->status == 200);
  CHECK(f.webhook.in_flight() == 0);
  CHECK(f.run(f.signed_request("msg_w5", kBody)).status == 200);
}

TEST_CASE("row 47: an unexpected internal error is 500 without detail", "[unit][webhook][row47]") {
  Fixture f;
  f.publisher.throw_on_publish = true;
  Answer a = f.run(f.signed_request("msg_boom", kBody));
  CHECK(a.status == 500);
  CHECK(a.code == "internal");
  CHECK(a.body.find("injected") == std::string::npos);
  CHECK(f.webhook.in_flight() == 0);
}

TEST_CASE("healthz, readyz and metrics", "[unit][webhook]") {
  Fixture f;
  CHECK(f.run("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").status == 200);
  CHECK(f.run("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n").status == 200);
  f.publisher.ready_flag = false;
  Answer not_ready = f.run("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.header("Retry-After") == "7");
  f.publisher.ready_flag = true;
  f.routes.begin_drain();
  CHECK(f.run("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n").status == 503);
  Answer metrics = f.run("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("clerk_mirror_ingress_rejected_total{code=\"invalid_json\"}") !=
        std::string::npos);
}
