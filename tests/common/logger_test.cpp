#include "common/logging/logger.hpp"

#include <catch2/catch.hpp>

using common::logging::Level;
using common::logging::Logger;

TEST_CASE("log lines are single-line JSON with escaped fields", "[unit][logging]") {
  std::string line = Logger::render("2026-01-01T00:00:00.000Z", Level::kWarn, "ingress",
                                    "bad \"thing\"\n", {{"count", 3}, {"ok", true}, {"s", "a\tb"}});
  CHECK(line == R"({"ts":"2026-01-01T00:00:00.000Z","level":"warn","component":"ingress",)"
                R"("msg":"bad \"thing\"\n","count":3,"ok":true,"s":"a\tb"})");
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("control characters are escaped as \\u00XX", "[unit][logging]") {
  std::string out;
  common::logging::append_json_string(out, std::string_view("\x01x", 2));
  CHECK(out == "\"\\u0001x\"");
}

TEST_CASE("levels below the threshold are dropped", "[unit][logging]") {
  std::FILE* sink = std::tmpfile();
  Logger logger("t", Level::kWarn, sink);
  logger.info("hidden");
  logger.error("shown", {{"n", 1}});
  std::fflush(sink);
  std::rewind(sink);
  char buf[512] = {};
  auto n = std::fread(buf, 1, sizeof buf - 1, sink);
  std::fclose(sink);
  std::string text(buf, n);
  CHECK(text.find("hidden") == std::string::npos);
  CHECK(text.find("\"msg\":\"shown\"") != std::string::npos);
  Level parsed;
  CHECK(common::logging::parse_level("debug", parsed));
  CHECK(parsed == Level::kDebug);
  CHECK_FALSE(common::logging::parse_level("loud", parsed));
}
