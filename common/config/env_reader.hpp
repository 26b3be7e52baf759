#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace common::config {

/// Thrown by EnvReader::throw_if_problems(); what() holds one line per problem.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

/// Reads configuration from environment variables, with command-line overrides
/// (`--kafka-brokers=x` or `--kafka-brokers x` overrides `KAFKA_BROKERS`).
/// Collects every problem instead of stopping at the first, so a process can
/// report all of them at start. Not thread-safe; used once, in main.
class EnvReader {
 public:
  using Lookup = std::function<std::optional<std::string>(const std::string&)>;

  /// Reads the real process environment.
  EnvReader();
  /// Reads through `lookup` (tests pass a map).
  explicit EnvReader(Lookup lookup);

  /// Adds `--flag value` / `--flag=value` overrides; returns the arguments that are
  /// not flags (positional). Unknown flag names are reported as problems when
  /// `known` is non-empty and does not name them.
  std::vector<std::string> apply_flags(const std::vector<std::string>& args,
                                       const std::vector<std::string>& known = {});

  /// The raw value, if set (empty counts as set).
  std::optional<std::string> raw(const std::string& name) const;

  std::string string(const std::string& name, std::string fallback);
  std::string required(const std::string& name);
  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max);
  bool boolean(const std::string& name, bool fallback);
  std::chrono::milliseconds milliseconds(const std::string& name,
                                         std::chrono::milliseconds fallback,
                                         std::chrono::milliseconds min,
                                         std::chrono::milliseconds max);
  /// Items separated by spaces or commas; empty items dropped.
  std::vector<std::string> list(const std::string& name, bool required);

  /// `host:port` (host may be empty for all interfaces, or a bracketed IPv6).
  std::string listen_address(const std::string& name, std::string fallback);
  /// Comma-separated `host:port` list; required.
  std::string brokers(const std::string& name);
  /// `postgresql://` or `postgres://` URL, or a libpq keyword string containing `=`.
  std::string database_url(const std::string& name);

  /// Records a problem found by a caller's own validation.
  void fail(const std::string& name, const std::string& message);
  const std::vector<std::string>& problems() const { return problems_; }
  void throw_if_problems() const;

 private:
  Lookup lookup_;
  std::map<std::string, std::string> overrides_;
  std::vector<std::string> problems_;
};

/// Splits `host:port`; nullopt when malformed. Exposed for tests and callers.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace common::config
