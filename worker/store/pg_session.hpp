#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <pqxx/connection>
#include <string>

namespace worker::store {

/// Store-internal header (includes libpqxx).
/// Opens a libpqxx connection; failures become StoreError(kConnectionLost).
/// Used only inside worker/store.
std::unique_ptr<pqxx::connection> open_connection(const std::string& conninfo);

/// Runs `body`, translating every libpqxx exception into StoreError (the one
/// place where libpqxx errors are interpreted).
void translate_errors(const std::function<void()>& body);

}  // namespace worker::store
