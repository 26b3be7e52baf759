// The database's own ceiling for the worker's row shape, for ops/bench/worker:
// the worker's exact statements (worker/store/pg_statements.hpp) with their row
// source `unnest($1, ...)` replaced by rows generated server-side (generate_series
// into temp tables, not timed), in chunks of the worker's batch size and mix;
// then COPY of the same rows into tables of the same shape. No client work is
// timed: this is what the server alone can do.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <string>

#include "worker/store/pg_statements.hpp"
#include "worker/support/clerk_events.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  long events = 1000000;
  long users = 200000;
  long organizations = 20000;
  long memberships = 300000;
  long chunk = 5000;
};

std::string from_stage(const std::string& sql, const std::string& stage) {
  static const std::regex unnest(R"(unnest\((\$[0-9]+::[a-z]+\[\][, \n]*)+\))");
  std::string out = std::regex_replace(sql, unnest, "(select * from " + stage + ")");
  if (out == sql) throw std::runtime_error("no unnest(...) row source in a statement");
  return out;
}

/// CPU seconds (user + system) used so far by process `pid` (our backend).
double cpu_seconds(int pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return 0;
  char buffer[2048] = {};
  std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, f);
  std::fclose(f);
  std::string stat(buffer, n);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  auto close = stat.rfind(')');
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
    if (i == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--database-url")
      o.url = v;
    else if (k == "--events")
      o.events = std::stol(v);
    else if (k == "--users")
      o.users = std::stol(v);
    else if (k == "--organizations")
      o.organizations = std::stol(v);
    else if (k == "--memberships")
      o.memberships = std::stol(v);
    else if (k == "--chunk")
      o.chunk = std::stol(v);
  }
  if (o.url.empty()) {
    std::fprintf(stderr,
                 "usage: worker_bench_ceiling --database-url URL [--events N] [--users U] "
                 "[--organizations O] [--memberships M] [--chunk C]\n");
    return 2;
  }
  pqxx::connection conn(o.url);
  pqxx::nontransaction(conn).exec("set jit = off");
  const int backend = conn.backendpid();
  double cpu_entities = 0, cpu_audit = 0;
  namespace sql = worker::store::sql;
  conn.prepare("users", from_stage(sql::kUpsertUsers, "stage_users"));
  conn.prepare("organizations", from_stage(sql::kUpsertOrganizations, "stage_orgs"));
  conn.prepare("memberships", from_stage(sql::kUpsertMemberships, "stage_members"));
  conn.prepare("delete_users", from_stage(sql::delete_entities("clerk.users"), "stage_udel"));
  conn.prepare("delete_organizations",
               from_stage(sql::delete_entities("clerk.organizations"), "stage_odel"));
  conn.prepare("delete_memberships", from_stage(sql::kDeleteMemberships, "stage_mdel"));
  // The consumer group, $12 in the worker's statement, is the only parameter left.
  conn.prepare("audit", std::regex_replace(from_stage(sql::kRecordAudit, "stage_audit"),
                                           std::regex(R"(\$12)"), "$$1::text"));
  std::string cascade = sql::kCascadeMemberships;
  cascade = std::regex_replace(cascade, std::regex(R"(any\(\$1::text\[\]\))"),
                               "any(array(select id from stage_udel))");
  cascade = std::regex_replace(cascade, std::regex(R"(any\(\$2::text\[\]\))"),
                               "any(array(select id from stage_odel))");
  conn.prepare("cascade", cascade);

  // Row templates: the load generator's payloads (worker_bench_load).
  std::string user = worker_test::user_data("IDX", 1700000000000, "First", "someone@example.org");
  std::string org = worker_test::organization_data("IDX", 1700000000000, "Org");
  std::string member =
      worker_test::membership_data("IDX", "ORGX", "USERX", 1700000000000, "org:member");
  {
    pqxx::work tx(conn);
    tx.exec_params(
        "create temp table templates as select $1::text as u, $2::text as o, "
        "$3::text as m",
        user, org, member);
    tx.exec(R"sql(
      create temp table stage_users as select * from (select
        null::text id, 0::bigint created_at, 0::bigint updated_at, 0::bigint last_sign_in_at,
        null::text first_name, null::text last_name, null::text username, null::text image_url,
        null::text external_id, null::text primary_email_address, null::text primary_phone_number,
        null::text primary_email_address_id, null::text primary_phone_number_id, false banned,
        false locked, null::text payload, 0::bigint version, 0::bigint event_ts,
        null::text event_id) s limit 0;
      create temp table stage_orgs as select * from (select null::text id, 0::bigint created_at,
        0::bigint updated_at, null::text name, null::text slug, null::text image_url,
        null::text created_by, 0::bigint members_count, 0::bigint max_allowed_memberships,
        false admin_delete_enabled, null::text payload, 0::bigint version, 0::bigint event_ts,
        null::text event_id) s limit 0;
      create temp table stage_members as select * from (select null::text id,
        0::bigint created_at, 0::bigint updated_at, null::text organization_id,
        null::text user_id, null::text role, null::text role_name, null::text payload,
        0::bigint version, 0::bigint event_ts, null::text event_id) s limit 0;
      create temp table stage_udel (id text, v bigint, ts bigint, eid text);
      create temp table stage_odel (id text, v bigint, ts bigint, eid text);
      create temp table stage_mdel (id text, organization_id text, user_id text, v bigint,
        ts bigint, eid text);
      create temp table stage_audit (topic text, partition int, kafka_offset bigint,
        event_id text, event_type text, entity_type text, entity_id text, version bigint,
        outcome text, source text, attempt int);)sql");
    tx.commit();
  }

  // The load generator's mix: 42% user upserts, 8% organization upserts, 42% membership
  // upserts, 4% membership deletions, 3% user deletions, 1% organization deletions.
  double t_entities = 0, t_audit = 0;
  long done = 0;
  for (long start = 0; done < o.events; start += o.chunk) {
    long n = std::min(o.chunk, o.events - done);
    long nu = n * 42 / 100, no = n * 8 / 100, nm = n * 42 / 100, nmd = n * 4 / 100,
         nud = n * 3 / 100, nod = n - nu - no - nm - nmd - nud;
    {
      pqxx::work tx(conn);
      tx.exec(
          "truncate stage_users, stage_orgs, stage_members, stage_udel, stage_odel, "
          "stage_mdel, stage_audit");
      // Ids walk a permutation of the key space (distinct within a chunk, scattered
      // like the load generator's random picks): first inserts, then updates.
      tx.exec_params(R"sql(
        insert into stage_users select i, 1699999999000, v, 1699999999000, 'First', 'Example',
          null, 'https://img.clerk.com/x', null, 'person' || i || '@example.org', null,
          'idn_' || i, null, false, false, replace(t.u, 'IDX', i), v, v, 'msg_u' || v
        from (select 'user_' || (((($1::bigint + g) % $2::bigint) * 2654435761) % $2::bigint) as i, 1700000000000 + $1::bigint + g as v
              from generate_series(1, $3::int) g) s, templates t order by i)sql",
                     start, o.users, nu);
      tx.exec_params(R"sql(
        insert into stage_orgs select i, 1699999999000, v, 'Org', 'slug-' || i,
          'https://img.clerk.com/x', 'user_creator', 3, 5, true, replace(t.o, 'IDX', i), v, v,
          'msg_o' || v
        from (select 'org_' || (((($1::bigint + g) % $2::bigint) * 2654435761) % $2::bigint) as i, 1700000000000 + $1::bigint + g as v
              from generate_series(1, $3::int) g) s, templates t order by i)sql",
                     start, o.organizations, no);
      tx.exec_params(R"sql(
        insert into stage_members select i, 1699999999000, v, org, usr, 'org:member', 'Role',
          replace(replace(replace(t.m, 'IDX', i), 'ORGX', org), 'USERX', usr), v, v, 'msg_m' || v
        from (select 'orgmem_' || m as i, 'org_' || (m % $4::bigint) as org,
                     'user_' || ((m * 7919) % $5::bigint) as usr, 1700000000000 + $1::bigint + g as v
              from (select g, ((($1::bigint + g) % $2::bigint) * 2654435761) % $2::bigint as m
                    from generate_series(1, $3::int) g) x) s,
             templates t order by i)sql",
                     start, o.memberships, nm + nmd, o.organizations, o.users);
      tx.exec_params(R"sql(
        insert into stage_mdel select id, organization_id, user_id, version + 1, version + 1,
          event_id || 'd' from stage_members order by id limit $1::bigint)sql",
                     nmd);
      tx.exec_params(R"sql(
        insert into stage_udel select 'user_' || (($1::bigint * 7 + g * 13) % $2::bigint),
          1700000000000 + $1::bigint + g, 1700000000000 + $1::bigint + g, 'msg_ud' || ($1::bigint + g)
        from generate_series(1, $3::int) g
        on conflict do nothing)sql",
                     start, o.users, nud);
      tx.exec_params(R"sql(
        insert into stage_odel select 'org_' || (($1::bigint * 7 + g * 13) % $2::bigint),
          1700000000000 + $1::bigint + g, 1700000000000 + $1::bigint + g, 'msg_od' || ($1::bigint + g)
        from generate_series(1, $3::int) g)sql",
                     start, o.organizations, nod);
      tx.exec_params(R"sql(
        insert into stage_audit select 'bench.topic', (g % 6)::int, $1::bigint + g, 'msg_a' || ($1::bigint + g),
          'user.updated', 'user', 'user_' || g, 1700000000000 + g, 'applied', 'webhook', 0
        from generate_series(1, $2::int) g)sql",
                     start, n);
      tx.exec(
          "analyze stage_users, stage_orgs, stage_members, stage_udel, stage_odel, "
          "stage_mdel, stage_audit");
      tx.commit();
    }
    // Deduplicate deletion ids like the worker's planner does (one row per id).
    {
      pqxx::work tx(conn);
      tx.exec("delete from stage_udel a using stage_udel b where a.id = b.id and a.ctid > b.ctid");
      tx.exec("delete from stage_odel a using stage_odel b where a.id = b.id and a.ctid > b.ctid");
      tx.commit();
    }
    auto started = Clock::now();
    double cpu_started = cpu_seconds(backend);
    {
      pqxx::work tx(conn);
      tx.exec_prepared("users");
      tx.exec_prepared("organizations");
      tx.exec_prepared("delete_users");
      tx.exec_prepared("delete_organizations");
      tx.exec_prepared("cascade");
      tx.exec_prepared("memberships");
      tx.exec_prepared("delete_memberships");
      tx.commit();
    }
    t_entities += seconds(started);
    cpu_entities += cpu_seconds(backend) - cpu_started;
    started = Clock::now();
    cpu_started = cpu_seconds(backend);
    {
      pqxx::work tx(conn);
      tx.exec_prepared("audit", "bench");
      tx.commit();
    }
    t_audit += seconds(started);
    cpu_audit += cpu_seconds(backend) - cpu_started;
    done += n;
  }

  // COPY of the same row shape into tables like the mirrored ones (indexes included).
  double t_copy = 0;
  long copied = 0;
  {
    pqxx::work tx(conn);
    tx.exec("create schema if not exists bench_copy");
    for (const char* table : {"users", "organizations", "organization_memberships"}) {
      tx.exec(std::string("drop table if exists bench_copy.") + table);
      tx.exec(std::string("create table bench_copy.") + table + " (like clerk." + table +
              " including all)");
      tx.exec(std::string("copy clerk.") + table + " to '/tmp/clerk_bench_" + table + ".copy'");
      copied += tx.exec1(std::string("select count(*) from clerk.") + table)[0].as<long>();
    }
    tx.commit();
  }
  {
    auto started = Clock::now();
    pqxx::work tx(conn);
    for (const char* table : {"users", "organizations", "organization_memberships"}) {
      tx.exec(std::string("copy bench_copy.") + table + " from '/tmp/clerk_bench_" + table +
              ".copy'");
    }
    tx.commit();
    t_copy = seconds(started);
  }
  {
    pqxx::work tx(conn);
    tx.exec("drop schema bench_copy cascade");
    tx.commit();
  }
  for (const char* table : {"users", "organizations", "organization_memberships"}) {
    std::remove((std::string("/tmp/clerk_bench_") + table + ".copy").c_str());
  }
  std::printf(
      "ceiling_events=%ld entities_seconds=%.2f audit_seconds=%.2f "
      "upsert_events_per_s=%.0f upsert_with_audit_events_per_s=%.0f "
      "upsert_cpu_us_per_event=%.1f upsert_with_audit_cpu_us_per_event=%.1f "
      "copy_rows=%ld copy_seconds=%.2f copy_rows_per_s=%.0f\n",
      done, t_entities, t_audit, done / t_entities, done / (t_entities + t_audit),
      cpu_entities * 1e6 / static_cast<double>(done),
      (cpu_entities + cpu_audit) * 1e6 / static_cast<double>(done), copied, t_copy,
      copied / t_copy);
  return 0;
}
