#include <catch2/catch.hpp>
#include <memory>
#include <pqxx/pqxx>

#include "support/child_process.hpp"
#include "worker/support/scratch_database.hpp"

namespace {

int migrate(const std::string& url) {
  return test_support::run({test_support::binary("clerk-mirror"), "migrate"},
                           {{"DATABASE_URL", url}})
      .code;
}

}  // namespace

TEST_CASE("migrate creates the interface tables and is idempotent", "[postgres]") {
  worker_test::ScratchDatabase db;
  REQUIRE(migrate(db.url()) == 0);
  REQUIRE(migrate(db.url()) == 0);

  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  // Other components add their own migrations; each is recorded once, with a sha256.
  CHECK(tx.exec1("select count(*) from clerk.schema_migrations where version = 1")[0].as<int>() ==
        1);
  CHECK(tx.exec1("select count(*) from clerk.schema_migrations where length(checksum) <> 64")[0]
            .as<int>() == 0);
  // The interface contract's tables and columns.
  const char* columns[][2] = {{"users", "id"},
                              {"users", "created_at"},
                              {"users", "updated_at"},
                              {"users", "deleted_at"},
                              {"users", "first_name"},
                              {"users", "last_name"},
                              {"users", "username"},
                              {"users", "image_url"},
                              {"users", "external_id"},
                              {"users", "primary_email_address"},
                              {"users", "primary_phone_number"},
                              {"users", "public_metadata"},
                              {"organizations", "id"},
                              {"organizations", "name"},
                              {"organizations", "slug"},
                              {"organizations", "deleted_at"},
                              {"organization_memberships", "id"},
                              {"organization_memberships", "organization_id"},
                              {"organization_memberships", "user_id"},
                              {"organization_memberships", "role"},
                              {"organization_memberships", "deleted_at"}};
  for (const auto& [table, column] : columns) {
    INFO(table << "." << column);
    CHECK(tx.exec_params1("select count(*) from information_schema.columns where "
                          "table_schema = 'clerk' and table_name = $1 and column_name = $2",
                          table, column)[0]
              .as<int>() == 1);
  }
  CHECK(tx.exec1("select data_type from information_schema.columns where table_schema = 'clerk' "
                 "and table_name = 'users' and column_name = 'public_metadata'")[0]
            .as<std::string>() == "jsonb");
  // No foreign keys between mirrored tables: events arrive in any order.
  CHECK(tx.exec1("select count(*) from information_schema.table_constraints where "
                 "constraint_schema = 'clerk' and constraint_type = 'FOREIGN KEY' and table_name "
                 "in ('users', 'organizations', 'organization_memberships')")[0]
            .as<int>() == 0);
}

TEST_CASE("several migrate processes started together apply each migration once", "[postgres]") {
  worker_test::ScratchDatabase db;
  std::vector<std::unique_ptr<test_support::ChildProcess>> children;
  for (int i = 0; i < 4; ++i) {
    children.push_back(std::make_unique<test_support::ChildProcess>(
        test_support::ChildSpec{.argv = {test_support::binary("clerk-mirror"), "migrate"},
                                .env = {{"DATABASE_URL", db.url()}}}));
  }
  for (auto& child : children)
    CHECK(child->wait() == 0);
  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  CHECK(tx.exec1("select count(*) from clerk.schema_migrations where version = 1")[0].as<int>() ==
        1);
  CHECK(tx.exec1("select count(*) = count(distinct version) from clerk.schema_migrations")[0]
            .as<bool>());
}

TEST_CASE("an edited migration is refused", "[postgres]") {
  worker_test::ScratchDatabase db;
  REQUIRE(migrate(db.url()) == 0);
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    // What an edit of the file looks like from the database's side.
    tx.exec("update clerk.schema_migrations set checksum = md5('edited') where version = 1");
    tx.commit();
  }
  CHECK(migrate(db.url()) == 3);
}

TEST_CASE("migrate --list needs no database and --help exits 0", "[postgres]") {
  using test_support::binary;
  using test_support::run;
  CHECK(run({binary("clerk-mirror"), "migrate", "--list"}).code == 0);
  for (const char* command : {"worker", "migrate", "status"}) {
    CHECK(run({binary("clerk-mirror"), command, "--help"}).code == 0);
  }
  CHECK(run({binary("clerk-mirror"), "no-such-command"}).code == 2);
  CHECK(run({binary("clerk-mirror"), "worker"},
            {{"KAFKA_BROKERS", "not a broker"}, {"DATABASE_URL", "nope"}})
            .code == 2);
}
