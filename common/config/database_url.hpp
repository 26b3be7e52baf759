#pragma once
#include <chrono>
#include <string>

namespace common::config {

/// Adds libpq options to a connection string (URL or keyword form) unless the
/// string already sets them: connect_timeout, application_name and TCP keepalives
/// (a vanished server is noticed on an idle connection within about a minute).
/// Every process that connects to PostgreSQL opens its connections through this.
/// Pure.
std::string with_session_options(const std::string& database_url,
                                 const std::string& application_name,
                                 std::chrono::seconds connect_timeout);

}  // namespace common::config
