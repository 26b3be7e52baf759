#include <cstdio>
#include <string>
#include <vector>

#include "common/config/env_reader.hpp"
#include "common/http/ops_server.hpp"
#include "common/logging/logger.hpp"
#include "common/process/stop_signal.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  common::process::StopSignal stop;
  common::config::EnvReader env;
  env.apply_flags(args);
  env.brokers("KAFKA_BROKERS");
  env.database_url("DATABASE_URL");
  std::string listen = env.listen_address("ADMIN_LISTEN", "127.0.0.1:9090");
  if (!env.problems().empty()) {
    for (const auto& p : env.problems())
      std::fprintf(stderr, "clerk-mirror: %s\n", p.c_str());
    return 2;
  }
  common::logging::Logger logger("worker", common::logging::Level::kInfo);
  common::http::OpsServer server(listen, logger);
  server.route("GET", "/healthz", [](const auto&) {
    return common::http::Response{200, "{\"status\":\"ok\"}"};
  });
  server.start();
  stop.wait();
  return 0;
}
