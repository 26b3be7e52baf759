#pragma once
#include <span>
#include <string>
#include <vector>

#include "worker/store/migration.hpp"

namespace common::logging {
class Logger;
}

namespace worker::store {

/// What one run of the migrator did.
struct MigrationReport {
  std::vector<std::string> applied;          ///< applied by this run, in order
  std::vector<std::string> already_applied;  ///< found recorded with a matching checksum
  std::vector<std::string> unknown;          ///< recorded in the database, absent from this binary
};

/// Brings schema `clerk` up to date with the embedded migrations. Serialised by a
/// session advisory lock (pg_advisory_lock), so workers starting together are
/// safe: the first applies, the others wait and then find everything recorded.
/// Each migration runs in its own transaction together with its record in
/// clerk.schema_migrations (version, name, sha256 checksum). A recorded migration
/// whose embedded text has a different checksum is refused (MigrationRefused) and
/// nothing after it runs. Database failures throw StoreError. Not thread-safe;
/// holds one connection for the duration of migrate().
class PgMigrator {
 public:
  PgMigrator(std::string database_url, common::logging::Logger& logger);
  MigrationReport migrate(std::span<const Migration> migrations);

 private:
  std::string database_url_;
  common::logging::Logger& logger_;
};

}  // namespace worker::store
