#pragma once
#include <stdexcept>
#include <string>

namespace worker::store {

/// How a database call failed, as far as the caller needs to know.
enum class StoreFailure {
  kConnectionLost,  ///< the connection broke (or could not be made) before the outcome was known
  kInDoubt,    ///< the connection broke during COMMIT: the transaction may or may not have landed
  kStatement,  ///< the server refused a statement; sqlstate() says why
};

/// A libpqxx/libpq failure translated once, at the store adapter. Carries the
/// SQLSTATE (empty when the failure is not the server's answer) and the
/// server's or libpq's message. The retry policy decides what to do with it.
class StoreError : public std::runtime_error {
 public:
  StoreError(StoreFailure failure, std::string sqlstate, const std::string& message)
      : std::runtime_error(message), failure_(failure), sqlstate_(std::move(sqlstate)) {}
  StoreFailure failure() const { return failure_; }
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  StoreFailure failure_;
  std::string sqlstate_;
};

/// An embedded migration whose text differs from the one recorded as applied,
/// or another condition under which the schema must not be touched.
class MigrationRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace worker::store
