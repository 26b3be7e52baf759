#include "worker/sync/postgres_sync_store.hpp"

#include <unistd.h>

#include <chrono>
#include <pqxx/pqxx>

#include "common/config/database_url.hpp"

namespace worker::sync {
namespace {

constexpr const char* kIsoUtc = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

std::string table_of(EntityKind kind) {
  switch (kind) {
    case EntityKind::kUser:
      return "clerk.users";
    case EntityKind::kOrganization:
      return "clerk.organizations";
    case EntityKind::kMembership:
      return "clerk.organization_memberships";
  }
  return "clerk.users";
}

// Times are compared in milliseconds since the epoch, the unit of Clerk's API.
std::string row_columns(EntityKind kind) {
  std::string columns =
      "id, coalesce((extract(epoch from created_at) * 1000)::bigint, 0), "
      "coalesce((extract(epoch from updated_at) * 1000)::bigint, 0), deleted_at is not null";
  if (kind == EntityKind::kMembership) {
    columns +=
        ", coalesce(organization_id, ''), coalesce(user_id, ''), coalesce(role, ''), "
        "coalesce(payload::text, '')";
  }
  return columns;
}

MirrorRow read_row(EntityKind kind, const pqxx::row& row) {
  MirrorRow out;
  out.id = row[0].as<std::string>();
  out.created_at_ms = row[1].as<std::int64_t>();
  out.updated_at_ms = row[2].as<std::int64_t>();
  out.deleted = row[3].as<bool>();
  if (kind == EntityKind::kMembership) {
    out.organization_id = row[4].as<std::string>();
    out.user_id = row[5].as<std::string>();
    out.role = row[6].as<std::string>();
    out.payload = row[7].as<std::string>();
  }
  return out;
}

std::vector<std::string> read_text_array(const pqxx::field& field) {
  std::vector<std::string> items;
  if (field.is_null()) return items;
  pqxx::array_parser parser = field.as_array();
  for (;;) {
    auto [juncture, value] = parser.get_next();
    if (juncture == pqxx::array_parser::done) break;
    if (juncture == pqxx::array_parser::string_value) items.push_back(std::move(value));
  }
  return items;
}

std::string phase_name(EntityKind phase) {
  return std::string(plural_name(phase));
}

// Translates libpqxx's exceptions, once, into SyncStoreError naming what failed.
template <typename Body>
auto guarded(const char* what, Body body) -> decltype(body()) {
  try {
    return body();
  } catch (const pqxx::undefined_table& e) {
    throw SyncStoreError(std::string(what) + ": " + e.what() +
                         " (apply the migrations: clerk-mirror migrate)");
  } catch (const pqxx::broken_connection& e) {
    throw SyncStoreError(std::string(what) + ": database connection lost: " + e.what());
  } catch (const pqxx::failure& e) {
    throw SyncStoreError(std::string(what) + ": " + e.what());
  }
}

}  // namespace

std::string text_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

struct PostgresSyncStore::Impl {
  explicit Impl(const std::string& url)
      : connection(common::config::with_session_options(url, "clerk-mirror sync",
                                                        std::chrono::seconds(10))) {}
  pqxx::connection connection;
  bool seen_table = false;  ///< pg_temp.reconcile_seen exists in this session

  void ensure_seen_table(pqxx::work& tx) {
    if (seen_table) return;
    tx.exec0(
        "create temp table if not exists reconcile_seen (kind text not null, "
        "id text collate \"C\" not null, primary key (kind, id))");
    seen_table = true;
  }
};

PostgresSyncStore::PostgresSyncStore(const std::string& database_url)
    : impl_(guarded("connecting to DATABASE_URL",
                    [&] { return std::make_unique<Impl>(database_url); })) {}

PostgresSyncStore::~PostgresSyncStore() = default;

bool PostgresSyncStore::try_lock(RunKind kind) {
  return guarded("try_lock", [&] {
    pqxx::nontransaction tx(impl_->connection);
    return tx
        .exec_params1("select pg_try_advisory_lock(hashtext('clerk-mirror sync'), $1)",
                      static_cast<int>(kind))[0]
        .as<bool>();
  });
}

std::optional<std::int64_t> PostgresSyncStore::close_abandoned_runs(RunKind kind) {
  return guarded("close_abandoned_runs", [&] {
    pqxx::work tx(impl_->connection);
    pqxx::result rows = tx.exec_params(
        "update clerk.sync_runs set status = 'interrupted', finished_at = now(), "
        "error = coalesce(error, 'the process ended without finishing the run') "
        "where kind = $1 and status = 'running' returning id",
        std::string(to_string(kind)));
    tx.commit();
    std::optional<std::int64_t> newest;
    for (const auto& row : rows) {
      auto id = row[0].as<std::int64_t>();
      if (!newest || id > *newest) newest = id;
    }
    return newest;
  });
}

std::int64_t PostgresSyncStore::start_run(RunKind kind, const std::string& scope, bool dry_run,
                                          std::optional<std::int64_t> resumed_from) {
  return guarded("start_run", [&] {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    pqxx::work tx(impl_->connection);
    auto row = tx.exec_params1(
        "insert into clerk.sync_runs (kind, scope, dry_run, resumed_from, host, pid) "
        "values ($1, $2, $3, nullif($4, 0), $5, $6) returning id",
        std::string(to_string(kind)), scope, dry_run, resumed_from.value_or(0), std::string(host),
        static_cast<int>(getpid()));
    tx.commit();
    return row[0].as<std::int64_t>();
  });
}

void PostgresSyncStore::record_progress(std::int64_t run_id, const RunCounts& counts) {
  return guarded("record_progress", [&] {
    pqxx::work tx(impl_->connection);
    tx.exec_params0("update clerk.sync_runs set counts = $2::jsonb where id = $1", run_id,
                    counts_json(counts));
    tx.commit();
  });
}

void PostgresSyncStore::finish_run(std::int64_t run_id, RunStatus status, const RunCounts& counts,
                                   std::int64_t drift_found, const std::string& drift_json,
                                   const std::string& error) {
  return guarded("finish_run", [&] {
    pqxx::work tx(impl_->connection);
    tx.exec_params0(
        "update clerk.sync_runs set status = $2, finished_at = now(), counts = $3::jsonb, "
        "drift_found = $4, drift = $5::jsonb, error = nullif($6, '') where id = $1",
        run_id, std::string(to_string(status)), counts_json(counts), drift_found,
        drift_json.empty() ? std::string("{}") : drift_json, error);
    tx.commit();
  });
}

std::optional<std::string> PostgresSyncStore::run_scope(std::int64_t run_id) {
  return guarded("run_scope", [&]() -> std::optional<std::string> {
    pqxx::work tx(impl_->connection);
    pqxx::result rows = tx.exec_params("select scope from clerk.sync_runs where id = $1", run_id);
    tx.commit();
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
  });
}

std::optional<std::int64_t> PostgresSyncStore::latest_run(RunKind kind) {
  return guarded("latest_run", [&]() -> std::optional<std::int64_t> {
    pqxx::work tx(impl_->connection);
    pqxx::result rows =
        tx.exec_params("select max(id) from clerk.sync_runs where kind = $1 and not dry_run",
                       std::string(to_string(kind)));
    tx.commit();
    if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
    return rows[0][0].as<std::int64_t>();
  });
}

std::map<std::int32_t, std::int64_t> PostgresSyncStore::applied_offsets(const std::string& topic) {
  return guarded("applied_offsets", [&] {
    pqxx::work tx(impl_->connection);
    pqxx::result rows = tx.exec_params(
        "select partition, max(next_offset) from clerk.consumer_offsets where topic = $1 "
        "group by partition",
        topic);
    tx.commit();
    std::map<std::int32_t, std::int64_t> out;
    for (const auto& row : rows)
      out[row[0].as<std::int32_t>()] = row[1].as<std::int64_t>();
    return out;
  });
}

std::optional<BackfillCheckpoint> PostgresSyncStore::load_checkpoint(EntityKind phase) {
  return guarded("load_checkpoint", [&]() -> std::optional<BackfillCheckpoint> {
    pqxx::work tx(impl_->connection);
    pqxx::result rows = tx.exec_params(
        "select run_id, next_offset, anchor_created_at_ms, anchor_ids, started, done, "
        "page_published, page_done, inner_organization, inner_next_offset, "
        "inner_anchor_created_at_ms, inner_anchor_ids, inner_started, inner_done "
        "from clerk.sync_checkpoints where phase = $1",
        phase_name(phase));
    tx.commit();
    if (rows.empty()) return std::nullopt;
    const pqxx::row& row = rows[0];
    BackfillCheckpoint c;
    c.phase = phase;
    c.run_id = row[0].as<std::int64_t>();
    c.outer.next_offset = row[1].as<std::int64_t>();
    c.outer.anchor_created_at_ms = row[2].as<std::int64_t>();
    c.outer.anchor_ids = read_text_array(row[3]);
    c.outer.started = row[4].as<bool>();
    c.outer.done = row[5].as<bool>();
    c.page_published = row[6].as<bool>();
    c.page_done = read_text_array(row[7]);
    c.inner_organization = row[8].as<std::string>();
    c.inner.next_offset = row[9].as<std::int64_t>();
    c.inner.anchor_created_at_ms = row[10].as<std::int64_t>();
    c.inner.anchor_ids = read_text_array(row[11]);
    c.inner.started = row[12].as<bool>();
    c.inner.done = row[13].as<bool>();
    return c;
  });
}

void PostgresSyncStore::save_checkpoint(const BackfillCheckpoint& c) {
  return guarded("save_checkpoint", [&] {
    pqxx::work tx(impl_->connection);
    tx.exec_params0(
        "insert into clerk.sync_checkpoints (phase, run_id, next_offset, anchor_created_at_ms, "
        "anchor_ids, started, done, page_published, page_done, inner_organization, "
        "inner_next_offset, inner_anchor_created_at_ms, inner_anchor_ids, inner_started, "
        "inner_done, updated_at) "
        "values ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9::text[], $10, $11, $12, $13::text[], "
        "$14, $15, now()) "
        "on conflict (phase) do update set run_id = excluded.run_id, "
        "next_offset = excluded.next_offset, anchor_created_at_ms = excluded.anchor_created_at_ms, "
        "anchor_ids = excluded.anchor_ids, started = excluded.started, done = excluded.done, "
        "page_published = excluded.page_published, page_done = excluded.page_done, "
        "inner_organization = excluded.inner_organization, "
        "inner_next_offset = excluded.inner_next_offset, "
        "inner_anchor_created_at_ms = excluded.inner_anchor_created_at_ms, "
        "inner_anchor_ids = excluded.inner_anchor_ids, inner_started = excluded.inner_started, "
        "inner_done = excluded.inner_done, updated_at = now()",
        phase_name(c.phase), c.run_id, c.outer.next_offset, c.outer.anchor_created_at_ms,
        text_array_literal(c.outer.anchor_ids), c.outer.started, c.outer.done, c.page_published,
        text_array_literal(c.page_done), c.inner_organization, c.inner.next_offset,
        c.inner.anchor_created_at_ms, text_array_literal(c.inner.anchor_ids), c.inner.started,
        c.inner.done);
    tx.commit();
  });
}

void PostgresSyncStore::clear_checkpoint(EntityKind phase) {
  return guarded("clear_checkpoint", [&] {
    pqxx::work tx(impl_->connection);
    tx.exec_params0("delete from clerk.sync_checkpoints where phase = $1", phase_name(phase));
    tx.commit();
  });
}

std::unordered_map<std::string, MirrorRow> PostgresSyncStore::mirror_rows(
    EntityKind kind, const std::vector<std::string>& ids) {
  return guarded("mirror_rows", [&] {
    std::unordered_map<std::string, MirrorRow> out;
    if (ids.empty()) return out;
    pqxx::work tx(impl_->connection);
    pqxx::result rows = tx.exec_params(
        "select " + row_columns(kind) + " from " + table_of(kind) + " where id = any($1::text[])",
        text_array_literal(ids));
    tx.commit();
    for (const auto& row : rows) {
      MirrorRow r = read_row(kind, row);
      std::string id = r.id;
      out.emplace(std::move(id), std::move(r));
    }
    return out;
  });
}

std::vector<std::string> PostgresSyncStore::remember_seen(EntityKind kind,
                                                          const std::vector<std::string>& ids) {
  return guarded("remember_seen", [&] {
    std::vector<std::string> fresh;
    if (ids.empty()) return fresh;
    pqxx::work tx(impl_->connection);
    impl_->ensure_seen_table(tx);
    pqxx::result rows = tx.exec_params(
        "insert into pg_temp.reconcile_seen (kind, id) "
        "select $1, id from unnest($2::text[]) as u(id) on conflict do nothing returning id",
        phase_name(kind), text_array_literal(ids));
    tx.commit();
    fresh.reserve(rows.size());
    for (const auto& row : rows)
      fresh.push_back(row[0].as<std::string>());
    return fresh;
  });
}

void PostgresSyncStore::forget_seen() {
  guarded("forget_seen", [&] {
    pqxx::work tx(impl_->connection);
    impl_->ensure_seen_table(tx);
    tx.exec0("truncate pg_temp.reconcile_seen");
    tx.commit();
  });
}

std::vector<MirrorRow> PostgresSyncStore::unseen_alive_rows(EntityKind kind,
                                                            std::int64_t created_before_ms) {
  return guarded("unseen_alive_rows", [&] {
    pqxx::work tx(impl_->connection);
    impl_->ensure_seen_table(tx);
    pqxx::result rows = tx.exec_params(
        "select " + row_columns(kind) + " from " + table_of(kind) +
            " t where deleted_at is null and created_at < to_timestamp($1::double precision / "
            "1000) and not exists (select 1 from pg_temp.reconcile_seen s where s.kind = $2 and "
            "s.id = t.id)",
        created_before_ms, phase_name(kind));
    tx.commit();
    std::vector<MirrorRow> out;
    out.reserve(rows.size());
    for (const auto& row : rows)
      out.push_back(read_row(kind, row));
    return out;
  });
}

std::vector<MirrorRow> PostgresSyncStore::alive_memberships(const std::string& organization_id) {
  return guarded("alive_memberships", [&] {
    pqxx::work tx(impl_->connection);
    pqxx::result rows = tx.exec_params("select " + row_columns(EntityKind::kMembership) +
                                           " from clerk.organization_memberships where deleted_at "
                                           "is null and organization_id = $1",
                                       organization_id);
    tx.commit();
    std::vector<MirrorRow> out;
    for (const auto& row : rows)
      out.push_back(read_row(EntityKind::kMembership, row));
    return out;
  });
}

std::vector<RunSummary> PostgresSyncStore::recent_runs(int limit) {
  return guarded("recent_runs", [&] {
    pqxx::work tx(impl_->connection);
    pqxx::result rows = tx.exec_params(
        std::string(
            "select id, kind, scope, dry_run, status, to_char(started_at at time zone 'UTC', ") +
            kIsoUtc + "), coalesce(to_char(finished_at at time zone 'UTC', " + kIsoUtc +
            "), ''), counts::text, drift_found, coalesce(error, ''), coalesce(resumed_from, 0) "
            "from clerk.sync_runs order by id desc limit $1",
        limit);
    tx.commit();
    std::vector<RunSummary> out;
    for (const auto& row : rows) {
      RunSummary s;
      s.id = row[0].as<std::int64_t>();
      s.kind = row[1].as<std::string>();
      s.scope = row[2].as<std::string>();
      s.dry_run = row[3].as<bool>();
      s.status = row[4].as<std::string>();
      s.started_at = row[5].as<std::string>();
      s.finished_at = row[6].as<std::string>();
      s.counts = row[7].as<std::string>();
      s.drift_found = row[8].as<std::int64_t>();
      s.error = row[9].as<std::string>();
      s.resumed_from = row[10].as<std::int64_t>();
      out.push_back(std::move(s));
    }
    return out;
  });
}

}  // namespace worker::sync
