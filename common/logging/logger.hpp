#pragma once
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

namespace common::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Parses "debug", "info", "warn", "error"; nullopt-like false on unknown.
bool parse_level(std::string_view text, Level& out);

/// One structured field of a log line. Values are copied into the line at once.
struct Field {
  using Value = std::variant<std::string_view, std::int64_t, double, bool>;
  std::string_view key;
  Value value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <typename Int>
  requires std::is_integral_v<Int> Field(std::string_view k, Int v)
      : key(k), value(static_cast<std::int64_t>(v)) {}
};

/// Writes JSON lines (`{"ts":...,"level":...,"component":...,"msg":...,<fields>}`)
/// to a stream, one write per line. Thread-safe. Owned by main and passed by
/// reference. Callers never pass secrets: fields are written as given.
class Logger {
 public:
  Logger(std::string component, Level threshold, std::FILE* out = stderr);

  void log(Level level, std::string_view message, std::initializer_list<Field> fields = {});
  void debug(std::string_view m, std::initializer_list<Field> f = {}) { log(Level::kDebug, m, f); }
  void info(std::string_view m, std::initializer_list<Field> f = {}) { log(Level::kInfo, m, f); }
  void warn(std::string_view m, std::initializer_list<Field> f = {}) { log(Level::kWarn, m, f); }
  void error(std::string_view m, std::initializer_list<Field> f = {}) { log(Level::kError, m, f); }
  bool enabled(Level level) const { return level >= threshold_; }

  /// Renders one line without the trailing newline; pure, for tests.
  static std::string render(std::string_view timestamp, Level level, std::string_view component,
                            std::string_view message, std::initializer_list<Field> fields);

 private:
  std::string component_;
  Level threshold_;
  std::FILE* out_;
  std::mutex mutex_;
};

/// Milliseconds since the epoch as RFC 3339 UTC with milliseconds
/// ("2026-12-06T12:00:00.000Z"), the logs' timestamp format. Pure.
std::string rfc3339_ms(std::int64_t epoch_ms);

/// Appends `text` to `out` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view text);

/// `text` as a JSON string literal (quotes included).
inline std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

}  // namespace common::logging
