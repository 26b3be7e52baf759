// clerk-mirror-ingress-null: BENCHMARK ONLY. The ingress's HTTP stack (HttpServer,
// RequestParser) with a handler that answers 204 to POST /webhooks/clerk without
// verifying or publishing anything: the ceiling ops/bench/ingress compares the real
// ingress against. A separate binary so that no flag can turn verification off in
// clerk-mirror-ingress itself. Reads INGRESS_LISTEN and INGRESS_THREADS only.
#include <cstdio>
#include <string>
#include <vector>

#include "common/config/env_reader.hpp"
#include "common/logging/logger.hpp"
#include "common/process/stop_signal.hpp"
#include "ingress/http/http_server.hpp"

namespace {

class NullHandler : public ingress::http::RequestHandler {
 public:
  std::optional<ingress::http::HttpResponse> check_head(
      const ingress::http::HttpRequest& request) override {
    if (request.path != "/webhooks/clerk") {
      return ingress::http::HttpResponse::error(404, "not_found", "no such path");
    }
    return std::nullopt;
  }
  void handle(ingress::http::HttpRequest&&, ingress::http::Responder respond) override {
    respond(ingress::http::HttpResponse{204, {}});
  }
  ingress::http::HttpResponse budget_expired() override {
    return ingress::http::HttpResponse::unavailable("publish_timeout", "budget", 1);
  }
};

class NullObserver : public ingress::http::ServerObserver {
 public:
  void on_response(std::string_view, int, std::string_view,
                   std::chrono::steady_clock::duration) override {}
  void on_connection_opened() override {}
  void on_connection_closed() override {}
  void on_connection_refused() override {}
  void on_handling(int) override {}
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::puts(
          "usage: clerk-mirror-ingress-null   (BENCHMARK ONLY: answers 204 without verifying)\n"
          "  INGRESS_LISTEN [0.0.0.0:8080], INGRESS_THREADS [CPU cores]");
      return 0;
    }
  }
  common::process::StopSignal stop;
  common::config::EnvReader env;
  env.apply_flags(args, {"INGRESS_LISTEN", "INGRESS_THREADS"});
  ingress::http::HttpServerSettings settings;
  settings.listen = env.listen_address("INGRESS_LISTEN", "0.0.0.0:8080");
  settings.threads = static_cast<int>(env.integer("INGRESS_THREADS", 2, 1, 256));
  settings.max_connections = 100000;
  if (!env.problems().empty()) {
    for (const auto& p : env.problems())
      std::fprintf(stderr, "clerk-mirror-ingress-null: %s\n", p.c_str());
    return 2;
  }
  common::logging::Logger logger("ingress-null", common::logging::Level::kInfo);
  NullHandler handler;
  NullObserver observer;
  ingress::http::HttpServer server(settings, handler, observer, logger);
  server.start();
  logger.warn("BENCHMARK ONLY: answering 204 without verifying or publishing",
              {{"port", server.port()}});
  stop.wait();
  server.stop_accepting();
  server.drain(std::chrono::seconds(2));
  server.stop();
  return 0;
}
