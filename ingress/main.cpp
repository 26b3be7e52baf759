#include <cstdio>
#include <string>
#include <vector>

#include "common/config/env_reader.hpp"
#include "common/http/ops_server.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/logging/logger.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "common/process/stop_signal.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::puts(
          "usage: clerk-mirror-ingress\n  configured by KAFKA_BROKERS, KAFKA_TOPIC, "
          "CLERK_WEBHOOK_SECRET, INGRESS_LISTEN");
      return 0;
    }
  }
  common::process::StopSignal stop;
  common::config::EnvReader env;
  env.apply_flags(args);
  std::string brokers = env.brokers("KAFKA_BROKERS");
  std::string listen = env.listen_address("INGRESS_LISTEN", "0.0.0.0:8080");
  env.list("CLERK_WEBHOOK_SECRET", true);
  if (!env.problems().empty()) {
    for (const auto& p : env.problems())
      std::fprintf(stderr, "clerk-mirror-ingress: %s\n", p.c_str());
    return 2;
  }
  common::logging::Logger logger("ingress", common::logging::Level::kInfo);
  common::metrics::MetricsRegistry metrics;
  common::kafka::KafkaProducer producer({brokers}, logger);
  common::http::OpsServer server(listen, logger);
  server.route("GET", "/healthz", [](const auto&) {
    return common::http::Response{200, "{\"status\":\"ok\"}"};
  });
  server.route("GET", "/metrics", [&](const auto&) {
    return common::http::Response{200, metrics.render(), "text/plain; version=0.0.4"};
  });
  server.start();
  logger.info("ingress started", {{"port", server.port()}});
  stop.wait();
  server.stop();
  return 0;
}
