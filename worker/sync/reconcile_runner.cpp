#include "worker/sync/reconcile_runner.hpp"

#include <map>

#include "worker/sync/sync_event.hpp"

namespace worker::sync {
namespace {

using common::events::Source;

// Drift ids kept in the run log per kind and category; the counts stay exact.
constexpr std::size_t kLoggedIdsPerCategory = 1000;

}  // namespace

// The ids met at the source are remembered by the store (in the database session),
// so that the memory of a run does not grow with the instance.
struct ReconcileRunner::Walk {
  const ReconcileOptions& options;
  ReconcileResult& result;
};

ReconcileRunner::ReconcileRunner(ClerkApi& api, EventPublisher& publisher, SyncStore& store,
                                 Clock& clock, ProgressReporter& progress)
    : api_(api), publisher_(publisher), store_(store), clock_(clock), progress_(progress) {}

void ReconcileRunner::check_stop() {
  if (clock_.stop_requested()) throw RunInterrupted();
}

ReconcileResult ReconcileRunner::run(const ReconcileOptions& options) {
  ReconcileResult result;
  if (!store_.try_lock(RunKind::kReconcile)) {
    throw RunBusy("another reconcile is running (it holds the reconcile lock)");
  }
  store_.close_abandoned_runs(RunKind::kReconcile);
  store_.forget_seen();
  result.started_at_ms = clock_.wall_ms();
  result.run_id =
      store_.start_run(RunKind::kReconcile, options.scope(), options.dry_run, std::nullopt);
  Walk walk{options, result};
  for (EntityKind kind : {EntityKind::kUser, EntityKind::kOrganization, EntityKind::kMembership}) {
    if (options.includes(kind)) result.drift[kind];
  }
  auto drift_total = [&] {
    std::int64_t total = 0;
    for (const auto& [kind, drift] : result.drift)
      total += static_cast<std::int64_t>(drift.total());
    return total;
  };
  try {
    if (options.users) {
      walk_list(walk, EntityKind::kUser, "");
      find_gone(walk, EntityKind::kUser);
    }
    if (options.walks_organizations()) {
      walk_list(walk, EntityKind::kOrganization, "");
      if (options.organizations) find_gone(walk, EntityKind::kOrganization);
      if (options.memberships) find_gone_memberships(walk);
    }
    result.counts.api = api_.stats();
    result.status = RunStatus::kSucceeded;
    store_.finish_run(result.run_id, result.status, result.counts, drift_total(),
                      drift_json(result.drift, kLoggedIdsPerCategory), "");
    return result;
  } catch (const std::exception& e) {
    result.counts.api = api_.stats();
    bool stopped = clock_.stop_requested();
    result.status = stopped ? RunStatus::kInterrupted : RunStatus::kFailed;
    store_.finish_run(result.run_id, result.status, result.counts, drift_total(),
                      drift_json(result.drift, kLoggedIdsPerCategory),
                      stopped ? "interrupted by a stop request" : e.what());
    if (stopped) return result;
    throw;
  }
}

void ReconcileRunner::walk_list(Walk& walk, EntityKind kind, const std::string& organization_id) {
  const ReconcileOptions& options = walk.options;
  bool compare = kind != EntityKind::kOrganization || options.organizations;
  KindCounts& c = walk.result.counts.kinds[kind];
  PageCursor cursor(options.page_size, options.overlap);
  while (!cursor.done()) {
    check_stop();
    std::optional<ApiPage> listed =
        kind == EntityKind::kMembership
            ? api_.list_memberships(organization_id, options.page_size, cursor.request_offset())
            : api_.list(kind, organization_id, options.page_size, cursor.request_offset());
    // An organization deleted since it was listed: its memberships are judged
    // in find_gone_memberships.
    if (!listed) return;
    const ApiPage& page = *listed;
    ++c.pages;
    PageStep step = cursor.accept(page.items);
    if (step.stepped_back) continue;
    c.fetched += static_cast<std::int64_t>(step.fresh.size());
    std::vector<std::string> ids;
    ids.reserve(step.fresh.size());
    for (std::size_t i : step.fresh)
      ids.push_back(page.items[i].id);
    store_.remember_seen(kind, ids);
    if (compare) compare_page(walk, kind, page.items, step.fresh);
    if (kind == EntityKind::kOrganization && options.memberships) {
      for (std::size_t i : step.fresh)
        walk_list(walk, EntityKind::kMembership, page.items[i].id);
    }
    if (kind != EntityKind::kMembership) {
      Progress p;
      p.phase = std::string(plural_name(kind));
      p.pages = c.pages;
      p.entities = c.fetched;
      p.published = walk.result.counts.published();
      auto members = walk.result.counts.kinds.find(EntityKind::kMembership);
      if (members != walk.result.counts.kinds.end())
        p.detail = std::to_string(members->second.fetched) + " memberships";
      progress_.update(p);
    }
  }
}

void ReconcileRunner::compare_page(Walk& walk, EntityKind kind,
                                   const std::vector<ApiEntity>& entities,
                                   const std::vector<std::size_t>& which) {
  std::vector<std::string> ids;
  ids.reserve(which.size());
  for (std::size_t i : which)
    ids.push_back(entities[i].id);
  auto mirror = store_.mirror_rows(kind, ids);
  std::vector<ApiEntity> subset;
  subset.reserve(which.size());
  for (std::size_t i : which)
    subset.push_back(entities[i]);
  std::vector<std::size_t> fixes = compare_with_mirror(subset, mirror, walk.result.drift[kind]);
  if (walk.options.dry_run || fixes.empty()) return;
  std::vector<common::kafka::OutgoingRecord> records;
  std::int64_t now_ms = clock_.wall_ms();
  for (std::size_t i : fixes) {
    records.push_back(
        sync_event::snapshot(kind, subset[i], Source::kReconcile, walk.result.run_id, now_ms));
  }
  publisher_.publish(std::move(records));
  walk.result.counts.kinds[kind].published += static_cast<std::int64_t>(fixes.size());
}

void ReconcileRunner::publish_deletions(Walk& walk, EntityKind kind,
                                        const std::vector<MirrorRow>& rows) {
  for (const MirrorRow& row : rows)
    walk.result.drift[kind].gone.insert(row.id);
  if (walk.options.dry_run || rows.empty()) return;
  std::vector<common::kafka::OutgoingRecord> records;
  std::int64_t now_ms = clock_.wall_ms();
  for (const MirrorRow& row : rows) {
    records.push_back(
        sync_event::deletion(kind, row, Source::kReconcile, walk.result.run_id, now_ms));
  }
  publisher_.publish(std::move(records));
  walk.result.counts.kinds[kind].published += static_cast<std::int64_t>(rows.size());
}

void ReconcileRunner::find_gone(Walk& walk, EntityKind kind) {
  std::vector<MirrorRow> candidates = store_.unseen_alive_rows(kind, walk.result.started_at_ms);
  std::vector<MirrorRow> gone;
  for (const MirrorRow& row : candidates) {
    check_stop();
    std::optional<ApiEntity> entity = api_.get(kind, row.id);
    if (!entity) {
      gone.push_back(row);
      continue;
    }
    // Alive after all: the walk missed it while the list moved. Judge it like the others.
    store_.remember_seen(kind, {entity->id});
    compare_page(walk, kind, {*entity}, {0});
  }
  publish_deletions(walk, kind, gone);
}

void ReconcileRunner::find_gone_memberships(Walk& walk) {
  const EntityKind kind = EntityKind::kMembership;
  std::vector<MirrorRow> candidates = store_.unseen_alive_rows(kind, walk.result.started_at_ms);
  std::map<std::string, std::vector<MirrorRow>> by_organization;
  for (MirrorRow& row : candidates)
    by_organization[row.organization_id].push_back(std::move(row));
  std::vector<MirrorRow> gone;
  for (auto& [organization_id, rows] : by_organization) {
    check_stop();
    // No separate membership endpoint exists: list the organization again (a
    // 404 there means the organization, and so all its memberships, are gone).
    std::unordered_set<std::string> alive;
    std::vector<ApiEntity> listed;
    PageCursor cursor(walk.options.page_size, walk.options.overlap);
    while (!cursor.done()) {
      check_stop();
      std::optional<ApiPage> page =
          api_.list_memberships(organization_id, walk.options.page_size, cursor.request_offset());
      if (!page) break;
      PageStep step = cursor.accept(page->items);
      for (std::size_t i : step.fresh) {
        alive.insert(page->items[i].id);
        listed.push_back(page->items[i]);
      }
    }
    for (MirrorRow& row : rows) {
      if (alive.count(row.id) == 0) gone.push_back(std::move(row));
    }
    // Members the walk missed (added while it ran) are judged like the others.
    std::vector<std::string> listed_ids;
    for (const ApiEntity& entity : listed)
      listed_ids.push_back(entity.id);
    std::vector<std::string> fresh = store_.remember_seen(kind, listed_ids);
    std::unordered_set<std::string> unseen(fresh.begin(), fresh.end());
    std::vector<std::size_t> missed;
    for (std::size_t i = 0; i < listed.size(); ++i) {
      if (unseen.count(listed[i].id) != 0) missed.push_back(i);
    }
    if (!missed.empty()) compare_page(walk, kind, listed, missed);
  }
  publish_deletions(walk, kind, gone);
}

}  // namespace worker::sync
