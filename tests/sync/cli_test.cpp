#include <catch2/catch.hpp>

#include "support/child_process.hpp"
#include "worker/sync/sync_config.hpp"

using test_support::binary;
using test_support::run;

namespace {

const std::vector<std::string> kBackfillFlags = {
    "--users", "--organizations", "--memberships", "--dry-run", "--restart", "--verbose", "--help"};

/// An environment in which every variable the commands read is unset.
std::map<std::string, std::string> bare_env() {
  std::map<std::string, std::string> env;
  for (const auto& name : worker::sync::sync_variable_names())
    env[name] = "";
  return env;
}

std::string flag_of(const std::string& variable) {
  std::string flag = "--";
  for (char c : variable)
    flag += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return flag;
}

}  // namespace

TEST_CASE("backfill --help documents every flag and every variable", "[unit]") {
  auto help = run({binary("clerk-mirror"), "backfill", "--help"}, {});
  CHECK(help.code == 0);
  for (const auto& flag : kBackfillFlags)
    CHECK_THAT(help.out, Catch::Contains(flag));
  for (const auto& variable : worker::sync::sync_variable_names())
    CHECK_THAT(help.out, Catch::Contains(variable));
  for (const char* command : {"reconcile", "sync"}) {
    auto other = run({binary("clerk-mirror"), command, "--help"}, {});
    CHECK(other.code == 0);
    CHECK_THAT(other.out, Catch::Contains("--dry-run") && Catch::Contains("CLERK_SECRET_KEY"));
  }
  auto overview = run({binary("clerk-mirror"), "--help"}, {});
  CHECK_THAT(overview.out, Catch::Contains("backfill") && Catch::Contains("reconcile") &&
                               Catch::Contains("sync"));
}

TEST_CASE("the README documents every flag and variable of backfill, reconcile and sync",
          "[unit]") {
  std::string readme = test_support::read_file(test_support::source_path("README.md"));
  REQUIRE_FALSE(readme.empty());
  for (const auto& flag : kBackfillFlags)
    CHECK_THAT(readme, Catch::Contains(flag));
  CHECK_THAT(readme, Catch::Contains("--json"));
  CHECK_THAT(readme, Catch::Contains("clerk-mirror sync user"));
  CHECK_THAT(readme, Catch::Contains("clerk-mirror sync organization"));
  for (const auto& variable : worker::sync::sync_variable_names())
    CHECK_THAT(readme, Catch::Contains(variable));
}

TEST_CASE("bad flags and configuration stop with status 2 and name the problem", "[unit]") {
  auto env = bare_env();
  auto bogus = run({binary("clerk-mirror"), "backfill", "--bogus"}, env);
  CHECK(bogus.code == 2);
  CHECK_THAT(bogus.err, Catch::Contains("--bogus"));

  auto missing = run({binary("clerk-mirror"), "backfill"}, env);
  CHECK(missing.code == 2);
  CHECK_THAT(missing.err, Catch::Contains("KAFKA_BROKERS") && Catch::Contains("DATABASE_URL") &&
                              Catch::Contains("CLERK_SECRET_KEY"));

  env["KAFKA_BROKERS"] = "127.0.0.1:9";
  env["DATABASE_URL"] = "postgresql://x@127.0.0.1:9/x";
  env["CLERK_SECRET_KEY"] = "sk_test_x";
  env["CLERK_API_RATE"] = "fast";
  auto rate = run({binary("clerk-mirror"), "reconcile"}, env);
  CHECK(rate.code == 2);
  CHECK_THAT(rate.err, Catch::Contains("CLERK_API_RATE"));

  env["CLERK_API_RATE"] = "";
  env.erase("CLERK_API_RATE");
  auto page = run({binary("clerk-mirror"), "backfill", flag_of("CLERK_API_PAGE_SIZE"), "501"}, env);
  CHECK(page.code == 2);
  CHECK_THAT(page.err, Catch::Contains("CLERK_API_PAGE_SIZE"));
  // One entity per page leaves no overlap to notice a list that shifted.
  auto one = run({binary("clerk-mirror"), "backfill", flag_of("CLERK_API_PAGE_SIZE"), "1"}, env);
  CHECK(one.code == 2);
  CHECK_THAT(one.err, Catch::Contains("CLERK_API_PAGE_SIZE"));

  auto url = run({binary("clerk-mirror"), "backfill", "--clerk-api-url", "ftp://x"}, env);
  CHECK(url.code == 2);
  CHECK_THAT(url.err, Catch::Contains("CLERK_API_URL"));

  auto sync = run({binary("clerk-mirror"), "sync", "user"}, env);
  CHECK(sync.code == 2);
  CHECK_THAT(sync.err, Catch::Contains("user <id>"));
  auto what = run({binary("clerk-mirror"), "sync", "team", "t_1"}, env);
  CHECK(what.code == 2);
}
