#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <pqxx/connection>
#include <string>

namespace worker::store {

/// Adds libpq options to a connection string (URL or keyword form) unless the
/// string already sets them: connect_timeout, application_name, TCP keepalives.
/// Pure.
std::string with_session_options(const std::string& database_url,
                                 const std::string& application_name,
                                 std::chrono::seconds connect_timeout);

/// Store-internal header (includes libpqxx).
/// Opens a libpqxx connection; failures become StoreError(kConnectionLost).
/// Used only inside worker/store.
std::unique_ptr<pqxx::connection> open_connection(const std::string& conninfo);

/// Runs `body`, translating every libpqxx exception into StoreError (the one
/// place where libpqxx errors are interpreted).
void translate_errors(const std::function<void()>& body);

}  // namespace worker::store
