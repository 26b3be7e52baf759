#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "support/test_env.hpp"

TEST_CASE("the private PostgreSQL cluster accepts connections and jsonb", "[postgres]") {
  pqxx::connection conn(test_support::require_env("DATABASE_URL"));
  pqxx::work tx(conn);
  auto row = tx.exec1(
      "select current_setting('server_version_num')::int, "
      "'{\"a\":1}'::jsonb ->> 'a', inet_server_port()");
  CHECK(row[0].as<int>() >= 150000);
  CHECK(row[1].as<std::string>() == "1");
  // Never the system cluster on 5432.
  CHECK(row[2].as<int>() != 5432);
}
