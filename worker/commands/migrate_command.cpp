#include <cstdio>

#include "common/config/env_reader.hpp"
#include "common/logging/logger.hpp"
#include "common/process/stop_signal.hpp"
#include "worker/commands/command.hpp"
#include "worker/store/migration.hpp"
#include "worker/store/pg_migrator.hpp"
#include "worker/store/store_error.hpp"

namespace worker::commands {
namespace {

constexpr std::string_view kUsage = R"(Usage: clerk-mirror migrate [--database-url URL] [--list]

Applies the SQL migrations built into this binary (schemas/migrations/) to the
database, each in its own transaction, under an advisory lock, recording each
one's sha256 checksum in clerk.schema_migrations. Safe to run repeatedly and
from several processes at once. Refuses (exit 3) when a recorded migration's
text differs from the embedded one: migrations are never edited once landed.

  --list           print the embedded migrations and exit (no database access)

Environment: DATABASE_URL (required), LOG_LEVEL (info).
)";

int run_migrate(const CommandContext& context) {
  std::vector<std::string> args = context.args;
  bool list = std::erase(args, std::string("--list")) > 0;
  if (list) {
    for (const auto& m : store::embedded_migrations()) {
      std::printf("%04d %.*s\n", m.version, static_cast<int>(m.name.size()), m.name.data());
    }
    return 0;
  }
  common::config::EnvReader env;
  auto positional = env.apply_flags(args, {"DATABASE_URL", "LOG_LEVEL"});
  if (!positional.empty()) env.fail("arguments", "unexpected: " + positional.front());
  std::string url = env.database_url("DATABASE_URL");
  std::string level_text = env.string("LOG_LEVEL", "info");
  common::logging::Level level = common::logging::Level::kInfo;
  if (!common::logging::parse_level(level_text, level)) env.fail("LOG_LEVEL", "is not a level");
  if (!env.problems().empty()) return report_config_problems("migrate", env.problems());

  common::logging::Logger logger("migrate", level);
  try {
    store::PgMigrator migrator(url, logger);
    auto report = migrator.migrate(store::embedded_migrations());
    for (const auto& name : report.already_applied)
      std::printf("already applied  %s\n", name.c_str());
    for (const auto& name : report.applied)
      std::printf("applied          %s\n", name.c_str());
    for (const auto& name : report.unknown)
      std::printf("unknown (newer?) %s\n", name.c_str());
    return 0;
  } catch (const store::MigrationRefused& e) {
    std::fprintf(stderr, "clerk-mirror migrate: refused: %s\n", e.what());
    return 3;
  } catch (const store::StoreError& e) {
    std::fprintf(stderr, "clerk-mirror migrate: database error: %s\n", e.what());
    return 1;
  }
}

}  // namespace

Command migrate_command() {
  return {"migrate", "apply the embedded SQL migrations (idempotent, advisory-locked)", kUsage,
          run_migrate};
}

}  // namespace worker::commands
