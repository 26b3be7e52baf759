#include "worker/store/pg_session.hpp"

#include <pqxx/pqxx>

#include "worker/store/store_error.hpp"

namespace worker::store {
namespace {

bool is_url(const std::string& conninfo) {
  return conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
}

bool mentions(const std::string& conninfo, const std::string& key) {
  return conninfo.find(key + "=") != std::string::npos;
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
  };
  std::string out = database_url;
  bool url = is_url(database_url);
  for (const auto& [key, value] : options) {
    if (mentions(database_url, key) || value.empty()) continue;
    if (url) {
      out += out.find('?') == std::string::npos ? '?' : '&';
      out += key + "=" + value;  // values here never need percent-encoding
    } else {
      out += " " + key + "='" + value + "'";
    }
  }
  return out;
}

std::unique_ptr<pqxx::connection> open_connection(const std::string& conninfo) {
  std::unique_ptr<pqxx::connection> connection;
  translate_errors([&] { connection = std::make_unique<pqxx::connection>(conninfo); });
  return connection;
}

void translate_errors(const std::function<void()>& body) {
  try {
    body();
  } catch (const pqxx::in_doubt_error& e) {
    throw StoreError(StoreFailure::kInDoubt, "", e.what());
  } catch (const pqxx::broken_connection& e) {
    throw StoreError(StoreFailure::kConnectionLost, "", e.what());
  } catch (const pqxx::sql_error& e) {
    // Every answer from the server carries a SQLSTATE; none means libpq lost the
    // connection while waiting for one.
    if (e.sqlstate().empty()) throw StoreError(StoreFailure::kConnectionLost, "", e.what());
    throw StoreError(StoreFailure::kStatement, e.sqlstate(), e.what());
  } catch (const pqxx::failure& e) {
    throw StoreError(StoreFailure::kConnectionLost, "", e.what());
  }
}

}  // namespace worker::store
