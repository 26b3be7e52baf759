#include "common/logging/logger.hpp"

#include <chrono>
#include <cinttypes>
#include <cmath>
#include <ctime>

namespace common::logging {
namespace {

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  return rfc3339_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}

}  // namespace

std::string rfc3339_ms(std::int64_t epoch_ms) {
  std::int64_t seconds = epoch_ms / 1000;
  std::int64_t millis = epoch_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

bool parse_level(std::string_view text, Level& out) {
  if (text == "debug")
    out = Level::kDebug;
  else if (text == "info")
    out = Level::kInfo;
  else if (text == "warn" || text == "warning")
    out = Level::kWarn;
  else if (text == "error")
    out = Level::kError;
  else
    return false;
  return true;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

Logger::Logger(std::string component, Level threshold, std::FILE* out)
    : component_(std::move(component)), threshold_(threshold), out_(out) {}

std::string Logger::render(std::string_view timestamp, Level level, std::string_view component,
                           std::string_view message, std::initializer_list<Field> fields) {
  std::string line = "{\"ts\":";
  append_json_string(line, timestamp);
  line += ",\"level\":\"";
  line += level_name(level);
  line += "\",\"component\":";
  append_json_string(line, component);
  line += ",\"msg\":";
  append_json_string(line, message);
  for (const Field& field : fields) {
    line += ',';
    append_json_string(line, field.key);
    line += ':';
    if (auto s = std::get_if<std::string_view>(&field.value)) {
      append_json_string(line, *s);
    } else if (auto i = std::get_if<std::int64_t>(&field.value)) {
      line += std::to_string(*i);
    } else if (auto d = std::get_if<double>(&field.value)) {
      if (std::isfinite(*d)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6g", *d);
        line += buf;
      } else {
        line += "null";
      }
    } else {
      line += std::get<bool>(field.value) ? "true" : "false";
    }
  }
  line += '}';
  return line;
}

void Logger::log(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  std::string line = render(utc_now(), level, component_, message, fields);
  line += '\n';
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace common::logging
