#include "common/config/env_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace common::config {
namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

std::string flag_to_variable(std::string_view flag) {
  std::string name;
  for (char c : flag)
    name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

EnvReader::EnvReader()
    : EnvReader([](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      }) {}

EnvReader::EnvReader(Lookup lookup) : lookup_(std::move(lookup)) {}

std::vector<std::string> EnvReader::apply_flags(const std::vector<std::string>& args,
                                                const std::vector<std::string>& known) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional.push_back(arg);
      continue;
    }
    std::string body = arg.substr(2);
    std::string value;
    if (auto eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      problems_.push_back("--" + body + ": missing value");
      continue;
    }
    std::string name = flag_to_variable(body);
    if (!known.empty() && std::find(known.begin(), known.end(), name) == known.end()) {
      problems_.push_back("--" + body + ": unknown option");
      continue;
    }
    overrides_[name] = value;
  }
  return positional;
}

std::optional<std::string> EnvReader::raw(const std::string& name) const {
  if (auto it = overrides_.find(name); it != overrides_.end()) return it->second;
  return lookup_(name);
}

std::string EnvReader::string(const std::string& name, std::string fallback) {
  auto value = raw(name);
  return value ? *value : std::move(fallback);
}

std::string EnvReader::required(const std::string& name) {
  auto value = raw(name);
  if (!value) {
    fail(name, "is not set");
    return {};
  }
  if (value->empty()) fail(name, "is empty");
  return value ? *value : std::string{};
}

std::int64_t EnvReader::integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) {
  auto value = raw(name);
  if (!value) return fallback;
  auto parsed = parse_int(*value);
  if (!parsed || *parsed < min || *parsed > max) {
    fail(name, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                   ", got '" + *value + "'");
    return fallback;
  }
  return *parsed;
}

bool EnvReader::boolean(const std::string& name, bool fallback) {
  auto value = raw(name);
  if (!value) return fallback;
  std::string v = *value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  fail(name, "must be true or false, got '" + *value + "'");
  return fallback;
}

std::chrono::milliseconds EnvReader::milliseconds(const std::string& name,
                                                  std::chrono::milliseconds fallback,
                                                  std::chrono::milliseconds min,
                                                  std::chrono::milliseconds max) {
  return std::chrono::milliseconds(integer(name, fallback.count(), min.count(), max.count()));
}

std::vector<std::string> EnvReader::list(const std::string& name, bool is_required) {
  std::vector<std::string> items;
  auto value = raw(name);
  if (value) {
    std::string current;
    for (char c : *value + " ") {
      if (c == ' ' || c == ',' || c == '\t' || c == '\n') {
        if (!current.empty()) items.push_back(std::move(current));
        current.clear();
      } else {
        current += c;
      }
    }
  }
  if (is_required && items.empty()) fail(name, value ? "is empty" : "is not set");
  return items;
}

std::string EnvReader::listen_address(const std::string& name, std::string fallback) {
  std::string value = string(name, std::move(fallback));
  if (!parse_host_port(value)) fail(name, "must be host:port, got '" + value + "'");
  return value;
}

std::string EnvReader::brokers(const std::string& name) {
  auto items = list(name, true);
  std::string joined;
  for (const auto& item : items) {
    auto hp = parse_host_port(item);
    if (!hp || hp->host.empty() || hp->port == 0) {
      fail(name, "must be a comma-separated list of host:port, got '" + item + "'");
      return {};
    }
    if (!joined.empty()) joined += ',';
    joined += item;
  }
  return joined;
}

std::string EnvReader::database_url(const std::string& name) {
  std::string value = required(name);
  if (value.empty()) return value;
  bool url = value.rfind("postgresql://", 0) == 0 || value.rfind("postgres://", 0) == 0;
  bool keywords = value.find('=') != std::string::npos;
  if (!url && !keywords) {
    fail(name, "must be a postgresql:// URL or a libpq connection string, got '" + value + "'");
  }
  return value;
}

void EnvReader::fail(const std::string& name, const std::string& message) {
  problems_.push_back(name + " " + message);
}

void EnvReader::throw_if_problems() const {
  if (!problems_.empty()) throw ConfigError(problems_);
}

std::optional<HostPort> parse_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  auto parsed = parse_int(port);
  if (!parsed || *parsed < 0 || *parsed > 65535) return std::nullopt;
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(*parsed)};
}

}  // namespace common::config
