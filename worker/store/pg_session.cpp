#include "worker/store/pg_session.hpp"

#include <pqxx/pqxx>

#include "worker/store/store_error.hpp"

namespace worker::store {

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
