#include "worker/store/pg_migrator.hpp"

#include <map>
#include <pqxx/pqxx>

#include "common/config/database_url.hpp"
#include "common/logging/logger.hpp"
#include "worker/store/pg_session.hpp"
#include "worker/store/store_error.hpp"

namespace worker::store {
namespace {

// "clerk-mirror migrate" as a fixed advisory lock key (ASCII "clkmig01").
constexpr long long kMigrationLockKey = 0x636c6b6d69673031LL;

constexpr const char* kBootstrap = R"sql(
create schema if not exists clerk;
create table if not exists clerk.schema_migrations (
  version     integer primary key,
  name        text not null,
  checksum    text not null,
  applied_at  timestamptz not null default now()
))sql";

std::string first_line(std::string text) {
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return text;
}

}  // namespace

PgMigrator::PgMigrator(std::string database_url, common::logging::Logger& logger)
    : database_url_(std::move(database_url)), logger_(logger) {}

MigrationReport PgMigrator::migrate(std::span<const Migration> migrations) {
  MigrationReport report;
  auto connection = open_connection(common::config::with_session_options(
      database_url_, "clerk-mirror migrate", std::chrono::seconds(10)));
  translate_errors([&] {
    pqxx::connection& conn = *connection;
    {
      pqxx::nontransaction tx(conn);
      tx.exec_params("select pg_advisory_lock($1)", kMigrationLockKey);
    }
    // The session lock is released explicitly below and, on any failure, when the
    // connection closes.
    // Only when missing: a role without CREATE on the schema (clerk_mirror_writer)
    // can then run an up-to-date database's migrations, which apply nothing.
    {
      pqxx::work tx(conn);
      if (tx.exec1("select to_regclass('clerk.schema_migrations') is null")[0].as<bool>()) {
        tx.exec(kBootstrap);
      }
      tx.commit();
    }
    std::map<int, std::pair<std::string, std::string>> recorded;
    {
      pqxx::read_transaction tx(conn);
      for (const auto& row : tx.exec("select version, name, checksum from clerk.schema_migrations"))
        recorded[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
    }
    for (const auto& migration : migrations) {
      std::string sql(migration.sql);
      std::string name(migration.name);
      pqxx::work tx(conn);
      auto checksum =
          tx.exec_params1("select encode(sha256(convert_to($1, 'UTF8')), 'hex')", sql)[0]
              .as<std::string>();
      if (auto it = recorded.find(migration.version); it != recorded.end()) {
        if (it->second.second != checksum) {
          throw MigrationRefused("migration " + name + " was edited after it was applied " +
                                 "(recorded checksum " + it->second.second + ", embedded " +
                                 checksum + "); add a new migration instead of editing one");
        }
        report.already_applied.push_back(name);
        recorded.erase(it);
        continue;
      }
      try {
        tx.exec(sql);
      } catch (const pqxx::insufficient_privilege& e) {
        throw MigrationRefused("this role may not apply migration " + name + " (" +
                               first_line(e.what()) +
                               "): run `clerk-mirror migrate` as the schema's owner, or start "
                               "the workers with WORKER_MIGRATE=false");
      }
      tx.exec_params(
          "insert into clerk.schema_migrations (version, name, checksum) values ($1, $2, $3)",
          migration.version, name, checksum);
      tx.commit();
      logger_.info("migration applied", {{"migration", name}});
      report.applied.push_back(name);
    }
    for (const auto& [version, entry] : recorded) {
      logger_.warn("database has a migration this binary does not know",
                   {{"migration", entry.first}});
      report.unknown.push_back(entry.first);
    }
    pqxx::nontransaction tx(conn);
    tx.exec_params("select pg_advisory_unlock($1)", kMigrationLockKey);
  });
  return report;
}

}  // namespace worker::store
