#include "common/config/database_url.hpp"

#include <utility>
#include <vector>

namespace common::config {

namespace {

bool is_url(const std::string& conninfo) {
  return conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
}

bool mentions(const std::string& conninfo, const std::string& key) {
  return conninfo.find(key + "=") != std::string::npos;
}

// Application names carry spaces; nothing else here needs escaping in a URL.
std::string url_encoded(const std::string& value) {
  std::string out;
  for (char c : value)
    out += c == ' ' ? std::string("%20") : std::string(1, c);
  return out;
}

}  // namespace

std::string with_session_options(const std::string& database_url,
                                 const std::string& application_name,
                                 std::chrono::seconds connect_timeout) {
  std::vector<std::pair<std::string, std::string>> options{
      {"connect_timeout", std::to_string(connect_timeout.count())},
      {"application_name", application_name},
      // Notice a vanished server on an idle connection within about a minute.
      {"keepalives", "1"},
      {"keepalives_idle", "30"},
      {"keepalives_interval", "10"},
      {"keepalives_count", "3"},
      // ... and on a busy one: a statement whose bytes the server does not acknowledge
      // for 60 s fails as a lost connection instead of waiting for TCP to give up.
      {"tcp_user_timeout", "60000"},
  };
  std::string out = database_url;
  bool url = is_url(database_url);
  for (const auto& [key, value] : options) {
    if (mentions(database_url, key) || value.empty()) continue;
    if (url) {
      out += out.find('?') == std::string::npos ? '?' : '&';
      out += key + "=" + url_encoded(value);
    } else {
      out += " " + key + "='" + value + "'";
    }
  }
  return out;
}

}  // namespace common::config
