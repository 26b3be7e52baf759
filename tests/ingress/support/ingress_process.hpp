#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/child_process.hpp"

namespace ingress_test {

/// How the ingress suites run a command: with exactly `env` (plus PATH, HOME,
/// JAVA_HOME and KAFKA_CACHE_DIR), so nothing leaks in from ops/test's
/// environment; stdout and stderr in one temporary file.
inline test_support::ChildSpec isolated(std::vector<std::string> argv,
                                        std::map<std::string, std::string> env = {}) {
  return {.argv = std::move(argv), .env = std::move(env), .inherit_env = false, .err_to_out = true};
}

/// The real clerk-mirror-ingress, listening on 127.0.0.1 (port 0 unless `env`
/// says otherwise). The constructor returns once it logged its port and throws,
/// with the log, if it exits or stays silent for 15 s. Killed with SIGKILL if
/// still running when destroyed.
class IngressProcess {
 public:
  explicit IngressProcess(std::map<std::string, std::string> env)
      : process_(isolated({test_support::binary("clerk-mirror-ingress")},
                          with_defaults(std::move(env)))) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string text = process_.out();
      std::size_t at = text.find("\"msg\":\"listening\"");
      if (at != std::string::npos) {
        std::size_t key = text.find("\"port\":", at);
        port_ = static_cast<std::uint16_t>(std::stoi(text.substr(key + 7)));
        return;
      }
      if (!process_.running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("clerk-mirror-ingress did not start: " + process_.out());
  }
  std::uint16_t port() const { return port_; }
  test_support::ChildProcess& process() { return process_; }
  std::string log() const { return process_.out(); }

 private:
  static std::map<std::string, std::string> with_defaults(std::map<std::string, std::string> env) {
    env.emplace("INGRESS_LISTEN", "127.0.0.1:0");
    env.emplace("INGRESS_THREADS", "2");
    return env;
  }

  test_support::ChildProcess process_;
  std::uint16_t port_ = 0;
};

}  // namespace ingress_test
