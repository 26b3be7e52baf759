#pragma once
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>

/// What integration tests need from their surroundings. ops/test starts a private
/// PostgreSQL and Kafka and exports KAFKA_BROKERS and DATABASE_URL; a test that
/// needs one and does not find it fails (it does not skip silently).
namespace test_support {

inline std::string require_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: run integration tests through ops/test");
  }
  return value;
}

/// A name unique to this process and call, for topics, groups and schemas.
inline std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(now % 1000000007) + "_" +
         std::to_string(counter++);
}

}  // namespace test_support
