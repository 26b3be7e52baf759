// The strict HTTP/1.1 request parser, in process: framing rows 5 to 16 of the
// bad-input table (the socket-level timing rows are in http_server_test.cpp).
#include "ingress/http/request_parser.hpp"

#include <catch2/catch.hpp>

using ingress::http::HttpRequest;
using ingress::http::ParserLimits;
using ingress::http::RequestParser;
using Progress = RequestParser::Progress;

namespace {

struct Outcome {
  Progress progress = Progress::kNeedMore;
  int status = 0;
  std::string code;
  HttpRequest request;
  std::string leftover;
  bool head_done = false;
};

// Feeds `input` in pieces of `step` bytes (0: all at once), like a socket would.
Outcome parse(std::string_view input, std::size_t step = 0, ParserLimits limits = {}) {
  RequestParser parser(limits);
  Outcome out;
  std::string buffer;
  std::size_t offered = 0;
  while (true) {
    std::size_t used = 0;
    Progress p = parser.feed(buffer, used);
    buffer.erase(0, used);
    if (p == Progress::kHeadDone) {
      out.head_done = true;
      continue;
    }
    if (p == Progress::kMessageDone || p == Progress::kError) {
      out.progress = p;
      break;
    }
    if (offered == input.size()) {
      out.progress = p;
      break;
    }
    std::size_t take = step == 0 ? input.size() - offered : std::min(step, input.size() - offered);
    buffer.append(input.substr(offered, take));
    offered += take;
  }
  out.status = parser.error().status;
  out.code = parser.error().code;
  out.request = parser.request();
  out.leftover = buffer + std::string(input.substr(offered));
  return out;
}

int status_of(std::string_view input, ParserLimits limits = {}) {
  Outcome o = parse(input, 0, limits);
  return o.progress == Progress::kError ? o.status
                                        : (o.progress == Progress::kMessageDone ? 200 : 0);
}

const std::string kHead = "POST /webhooks/clerk HTTP/1.1\r\nHost: x\r\n";

}  // namespace

TEST_CASE("a well-formed request parses the same whole or byte by byte", "[unit][http]") {
  std::string request = kHead + "Content-Type: application/json\r\nX-Thing:  spaced value \t\r\n" +
                        "Content-Length: 11\r\n\r\n{\"a\":\"b c\"}";
  for (std::size_t step : {0, 1, 7}) {
    Outcome o = parse(request + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", step);
    REQUIRE(o.progress == Progress::kMessageDone);
    CHECK(o.request.method == "POST");
    CHECK(o.request.path == "/webhooks/clerk");
    CHECK(o.request.body == "{\"a\":\"b c\"}");
    CHECK(o.request.header("x-thing") == std::optional<std::string_view>("spaced value"));
    CHECK(o.request.keep_alive);
    // The pipelined request is left for the next round.
    CHECK(o.leftover.rfind("GET /healthz", 0) == 0);
  }
}

TEST_CASE("chunked bodies are decoded, extensions and trailers allowed", "[unit][http]") {
  std::string request = kHead + "Transfer-Encoding: chunked\r\n\r\n" +
                        "4;name=value\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nTrailer-Field: x\r\n\r\n";
  for (std::size_t step : {0, 1, 5}) {
    Outcome o = parse(request, step);
    REQUIRE(o.progress == Progress::kMessageDone);
    CHECK(o.request.chunked);
    CHECK(o.request.body == "{\"a\":1}");
  }
}

TEST_CASE("row 5: a transfer coding other than chunked is 501", "[unit][http][row5]") {
  for (std::string te :
       {"gzip", "gzip, chunked", "chunked, chunked", "identity", "chunked;q=1", ""}) {
    CAPTURE(te);
    CHECK(status_of(kHead + "Transfer-Encoding: " + te + "\r\n\r\n") == 501);
  }
  CHECK(status_of(kHead + "Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n") == 200);
}

TEST_CASE("row 6: Content-Length with Transfer-Encoding is 400", "[unit][http][row6]") {
  CHECK(status_of(kHead + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(status_of(kHead + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n") == 400);
  CHECK(status_of(kHead + "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n") == 400);
}

TEST_CASE("row 7: conflicting, non-numeric or negative Content-Length is 400",
          "[unit][http][row7]") {
  for (std::string cl :
       {"Content-Length: 5\r\nContent-Length: 6", "Content-Length: 5, 6", "Content-Length: abc",
        "Content-Length: -1", "Content-Length: +5", "Content-Length: 5.0",
        "Content-Length:", "Content-Length: 0x5", "Content-Length: 99999999999999999999"}) {
    CAPTURE(cl);
    CHECK(status_of(kHead + cl + "\r\n\r\n") == 400);
  }
  // Repeating the same value is allowed (RFC 9110 8.6).
  CHECK(status_of(kHead + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}") == 200);
  CHECK(status_of(kHead + "Content-Length: 2, 2\r\n\r\n{}") == 200);
}

TEST_CASE("row 8: Content-Length over the limit is 413 as soon as the head is read",
          "[unit][http][row8]") {
  ParserLimits limits;
  limits.max_body = 1000;
  Outcome o = parse(kHead + "Content-Length: 1001\r\n\r\n", 0, limits);
  CHECK(o.progress == Progress::kError);
  CHECK(o.status == 413);
  CHECK_FALSE(o.head_done);
  CHECK(status_of(kHead + "Content-Length: 1000\r\n\r\n" + std::string(1000, 'x'), limits) == 200);
  CHECK(status_of(kHead + "Content-Length: 1048577\r\n\r\n") == 413);
}

TEST_CASE("row 9: a chunked body growing past the limit is 413", "[unit][http][row9]") {
  ParserLimits limits;
  limits.max_body = 10;
  std::string head = kHead + "Transfer-Encoding: chunked\r\n\r\n";
  CHECK(status_of(head + "a\r\n0123456789\r\n0\r\n\r\n", limits) == 200);
  CHECK(status_of(head + "a\r\n0123456789\r\n1\r\n", limits) == 413);
  CHECK(status_of(head + "b\r\n", limits) == 413);
  CHECK(status_of(head + "fffffffffffffff\r\n", limits) == 413);
}

TEST_CASE("a large Content-Length alone does not make the parser hold that much", "[unit][http]") {
  RequestParser parser(ParserLimits{});
  std::string input = kHead + "Content-Length: 1048576\r\n\r\n";
  std::size_t used = 0;
  REQUIRE(parser.feed(input, used) == Progress::kHeadDone);
  std::string rest = input.substr(used);
  used = 0;
  CHECK(parser.feed(rest, used) == Progress::kNeedMore);
  CHECK(parser.request().body.capacity() <= 64 * 1024);
  // The body grows as it arrives and is complete at its length.
  std::string body(1048576, 'x');
  used = 0;
  CHECK(parser.feed(body, used) == Progress::kMessageDone);
  CHECK(used == body.size());
  CHECK(parser.request().body == body);
}

TEST_CASE("row 10 (parser side): a short body waits for more", "[unit][http][row10]") {
  Outcome o = parse(kHead + "Content-Length: 10\r\n\r\n12345");
  CHECK(o.progress == Progress::kNeedMore);  // the server's body timeout answers 408
}

TEST_CASE("row 11: malformed chunk sizes and oversized extensions are 400", "[unit][http][row11]") {
  std::string head = kHead + "Transfer-Encoding: chunked\r\n\r\n";
  for (std::string bad :
       std::vector<std::string>{"zz\r\n", "\r\n", " 5\r\n", "5 x\r\n", "-5\r\n", "0x5\r\n",
                                "5\r\nabcdeXX", "5\nabcde\r\n", "1234567890abcdef0\r\n",
                                "5;" + std::string(2000, 'e') + "\r\n", "5;\x01\r\n"}) {
    CAPTURE(bad);
    CHECK(status_of(head + bad) == 400);
  }
  CHECK(status_of(head + "5 ;ext\r\nabcde\r\n0\r\n\r\n") == 200);
}

TEST_CASE("row 12 (parser side): Expect: 100-continue is reported with the head",
          "[unit][http][row12]") {
  Outcome o = parse(kHead + "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  CHECK(o.head_done);
  CHECK(o.request.expect_continue);
  CHECK(status_of(kHead + "Expect: 100-continue\r\nContent-Length: 2000000\r\n\r\n") == 413);
  CHECK(status_of(kHead + "Expect: something-else\r\nContent-Length: 2\r\n\r\n{}") == 417);
}

TEST_CASE("row 13: a request line over 8 KiB is 414", "[unit][http][row13]") {
  std::string long_target = "/" + std::string(8200, 'a');
  CHECK(status_of("GET " + long_target + " HTTP/1.1\r\nHost: x\r\n\r\n") == 414);
  // Detected before the line ends.
  CHECK(status_of("GET " + long_target) == 414);
  std::string fits = "/" + std::string(8000, 'a');
  CHECK(status_of("GET " + fits + " HTTP/1.1\r\nHost: x\r\n\r\n") == 200);
}

TEST_CASE("row 14: header line over 8 KiB, headers over 32 KiB, or over 100 fields is 431",
          "[unit][http][row14]") {
  CHECK(status_of(kHead + "X-Big: " + std::string(8200, 'a') + "\r\n\r\n") == 431);
  CHECK(status_of(kHead + "X-Big: " + std::string(8200, 'a')) == 431);  // before its end
  std::string many_big;
  for (int i = 0; i < 5; ++i)
    many_big += "X-" + std::to_string(i) + ": " + std::string(7000, 'a') + "\r\n";
  CHECK(status_of(kHead + many_big + "\r\n") == 431);
  std::string many;
  for (int i = 0; i < 101; ++i)
    many += "X-" + std::to_string(i) + ": v\r\n";
  CHECK(status_of(kHead + many + "\r\n") == 431);
  std::string hundred;
  for (int i = 0; i < 99; ++i)
    hundred += "X-" + std::to_string(i) + ": v\r\n";  // + Host = 100
  CHECK(status_of(kHead + hundred + "\r\n") == 200);
}

TEST_CASE("row 15: non-ASCII or control bytes in headers, and obs-fold, are 400",
          "[unit][http][row15]") {
  for (std::string bad :
       {"X-A: caf\xc3\xa9\r\n", "X-A: a\x01b\r\n", "X-A: a\x7f\r\n", "X-A: a\rb\r\n",
        "X-A: v\r\n folded\r\n", "X-A: v\r\n\tfolded\r\n", "X A: v\r\n", "X-A : v\r\n", ": v\r\n",
        "X-\xc3\xa9: v\r\n", "NoColon\r\n", "X-A: v\n"}) {
    CAPTURE(bad);
    CHECK(status_of(kHead + bad + "\r\n") == 400);
  }
  CHECK(status_of("POST /x HTTP/1.1\nHost: x\r\n\r\n") == 400);  // bare LF
  CHECK(status_of("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(status_of("GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
}

TEST_CASE("row 16: HTTP versions other than 1.0 and 1.1 are 505", "[unit][http][row16]") {
  CHECK(status_of("GET / HTTP/2.0\r\nHost: x\r\n\r\n") == 505);
  CHECK(status_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == 505);
  CHECK(status_of("GET / HTTP/1.2\r\nHost: x\r\n\r\n") == 505);
  CHECK(status_of("GET / HTTP/0.9\r\n\r\n") == 505);
  CHECK(status_of("GET /\r\n") == 505);  // HTTP/0.9 has no version at all
  CHECK(status_of("GET / http/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(status_of("GET  / HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  Outcome one_oh = parse("GET /healthz HTTP/1.0\r\n\r\n");
  REQUIRE(one_oh.progress == Progress::kMessageDone);
  CHECK_FALSE(one_oh.request.keep_alive);
}

TEST_CASE("Host is required once on HTTP/1.1; Connection: close is honoured", "[unit][http]") {
  CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
  Outcome close = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  CHECK_FALSE(close.request.keep_alive);
  Outcome keep = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(keep.request.keep_alive);
  // Leading empty lines before a request line are ignored (RFC 9112 2.2).
  CHECK(status_of("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == 200);
}

TEST_CASE("the query string is not part of the path", "[unit][http]") {
  Outcome o = parse("GET /webhooks/clerk?x=1&y=2 HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(o.request.path == "/webhooks/clerk");
  CHECK(o.request.target == "/webhooks/clerk?x=1&y=2");
}
