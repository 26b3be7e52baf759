// Migration 0060: the mirror's SQL roles and row-level security, against a real
// database migrated by the real binary. A gateway's user sees their own rows,
// whichever way the request names them (clerk_mirror.user_id, PostgREST's
// request.jwt.claims, Hasura's hasura.user); a reader sees everything; a role with
// a bare SELECT grant sees nothing; the writer writes; the owner is unaffected.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "support/child_process.hpp"
#include "worker/support/scratch_database.hpp"

namespace {

int migrate(const std::string& url) {
  return test_support::run({test_support::binary("clerk-mirror"), "migrate"},
                           {{"DATABASE_URL", url}})
      .code;
}

void seed(pqxx::connection& conn) {
  pqxx::work tx(conn);
  tx.exec(R"sql(
    insert into clerk.users (id, first_name) values ('user_1', 'Ada'), ('user_2', 'Grace'),
      ('user_3', 'Edsger');
    insert into clerk.organizations (id, name) values ('org_1', 'One'), ('org_2', 'Two'),
      ('org_3', 'Three');
    insert into clerk.organization_memberships (id, organization_id, user_id, role, deleted_at)
      values ('orgmem_1', 'org_1', 'user_1', 'org:admin', null),
             ('orgmem_2', 'org_2', 'user_2', 'org:member', null),
             ('orgmem_3', 'org_3', 'user_1', 'org:member', now());)sql");
  tx.commit();
}

// The ids of `table` visible as `role` after `setup` (statements run in the same
// transaction, which is rolled back).
std::string visible(pqxx::connection& conn, const std::string& role, const std::string& table,
                    const std::string& setup = "") {
  pqxx::work tx(conn);
  tx.exec("set local role " + role);
  if (!setup.empty()) tx.exec(setup);
  auto row = tx.exec1("select coalesce(string_agg(id, ',' order by id), '') from clerk." + table);
  return row[0].as<std::string>();
}

}  // namespace

TEST_CASE("row security: users see their own rows, readers all, bare grants nothing",
          "[postgres]") {
  worker_test::ScratchDatabase db;
  REQUIRE(migrate(db.url()) == 0);
  pqxx::connection conn(db.url());
  seed(conn);

  const std::string jwt = R"(set local request.jwt.claims = '{"sub":"user_1","role":"web"}')";
  CHECK(visible(conn, "clerk_mirror_user", "users", jwt) == "user_1");
  CHECK(visible(conn, "clerk_mirror_user", "organization_memberships", jwt) ==
        "orgmem_1,orgmem_3");  // their deleted membership stays visible as deleted
  CHECK(visible(conn, "clerk_mirror_user", "organizations", jwt) == "org_1");

  const std::string own = "set local clerk_mirror.user_id = 'user_2'";
  CHECK(visible(conn, "clerk_mirror_user", "users", own) == "user_2");
  CHECK(visible(conn, "clerk_mirror_user", "organizations", own) == "org_2");
  // Hasura sets it with set_config (`user` is a keyword for SET).
  const std::string hasura =
      R"(select set_config('hasura.user', '{"x-hasura-user-id":"user_2"}', true))";
  CHECK(visible(conn, "clerk_mirror_user", "users", hasura) == "user_2");
  // clerk_mirror.user_id wins over the gateways' settings.
  CHECK(visible(conn, "clerk_mirror_user", "users", own + "; " + jwt) == "user_2");

  // No user named: nothing.
  CHECK(visible(conn, "clerk_mirror_user", "users").empty());
  CHECK(visible(conn, "clerk_mirror_user", "organizations").empty());

  CHECK(visible(conn, "clerk_mirror_reader", "users") == "user_1,user_2,user_3");
  CHECK(visible(conn, "clerk_mirror_reader", "organizations") == "org_1,org_2,org_3");
  CHECK(visible(conn, "clerk_mirror_reader", "organization_memberships") ==
        "orgmem_1,orgmem_2,orgmem_3");

  // A login role of a gateway gets the user role by membership, as PostgREST's does.
  std::string gateway = test_support::unique_name("cmw_gateway");
  std::string plain = test_support::unique_name("cmw_plain");
  {
    pqxx::nontransaction tx(conn);
    tx.exec("create role " + gateway + " nologin in role clerk_mirror_user");
    tx.exec("create role " + plain + " nologin");
    tx.exec("grant usage on schema clerk to " + plain);
    tx.exec("grant select on clerk.users to " + plain);
  }
  CHECK(visible(conn, gateway, "users", jwt) == "user_1");
  CHECK(visible(conn, plain, "users", jwt).empty());  // a bare SELECT grant sees no row

  // Readers and users cannot write.
  {
    pqxx::work tx(conn);
    tx.exec("set local role clerk_mirror_user");
    tx.exec(jwt);
    CHECK_THROWS_AS(tx.exec("update clerk.users set first_name = 'x' where id = 'user_1'"),
                    pqxx::insufficient_privilege);
  }
  {
    pqxx::work tx(conn);
    tx.exec("set local role clerk_mirror_reader");
    CHECK_THROWS_AS(tx.exec("delete from clerk.users"), pqxx::insufficient_privilege);
  }

  pqxx::nontransaction cleanup(conn);
  cleanup.exec("drop role " + gateway);
  cleanup.exec("revoke all on clerk.users from " + plain);
  cleanup.exec("revoke all on schema clerk from " + plain);
  cleanup.exec("drop role " + plain);
}

TEST_CASE("row security: the writer role applies events without owning the tables", "[postgres]") {
  worker_test::ScratchDatabase db;
  REQUIRE(migrate(db.url()) == 0);
  pqxx::connection conn(db.url());
  seed(conn);
  {
    pqxx::work tx(conn);
    tx.exec("set local role clerk_mirror_writer");
    tx.exec(R"sql(
      insert into clerk.users (id, first_name) values ('user_1', 'Ada L.'), ('user_4', 'Barbara')
        on conflict (id) do update set first_name = excluded.first_name;
      update clerk.organization_memberships set deleted_at = now() where id = 'orgmem_2';
      insert into clerk.consumer_offsets (consumer_group, topic, partition, next_offset)
        values ('g', 't', 0, 10);
      select pg_advisory_xact_lock(42);)sql");
    CHECK(tx.exec1("select count(*) from clerk.users")[0].as<int>() == 4);
    CHECK(tx.exec1("select count(*) from clerk.schema_migrations")[0].as<int>() >= 4);
    // Schema changes stay with the owner.
    CHECK_THROWS_AS(tx.exec("alter table clerk.users add column x int"),
                    pqxx::insufficient_privilege);
  }
  // A worker logged in with the writer role may keep WORKER_MIGRATE's default: on an
  // up-to-date schema its migrations apply nothing; with one pending it is refused
  // (exit 3) with what to do, instead of retrying forever.
  std::string login = test_support::unique_name("cmw_writer");
  {
    pqxx::nontransaction admin(conn);
    admin.exec("create role " + login + " login in role clerk_mirror_writer");
  }
  std::string as_writer = db.url();
  as_writer.replace(as_writer.find("://") + 3, as_writer.find('@') - as_writer.find("://") - 3,
                    login);
  CHECK(migrate(as_writer) == 0);
  {
    pqxx::work owner(conn);
    owner.exec("delete from clerk.schema_migrations where version = 60");
    owner.commit();
  }
  auto refused = test_support::run({test_support::binary("clerk-mirror"), "migrate"},
                                   {{"DATABASE_URL", as_writer}});
  CHECK(refused.code == 3);
  CHECK_THAT(refused.err + refused.out,
             Catch::Contains("may not apply migration") && Catch::Contains("WORKER_MIGRATE=false"));
  {
    pqxx::nontransaction admin(conn);
    admin.exec("drop role " + login);
  }

  // Nothing above was committed; the owner sees and writes as before.
  pqxx::work tx(conn);
  CHECK(tx.exec1("select first_name from clerk.users where id = 'user_1'")[0].as<std::string>() ==
        "Ada");
  tx.exec("update clerk.users set first_name = 'Ada K.' where id = 'user_1'");
  CHECK(tx.exec1("select count(*) from clerk.users")[0].as<int>() == 3);
}
