#include "worker/sync/entity_syncer.hpp"

#include <unordered_set>

#include "worker/sync/page_cursor.hpp"
#include "worker/sync/sync_event.hpp"

namespace worker::sync {
namespace {
using common::events::Source;
}  // namespace

EntitySyncer::EntitySyncer(ClerkApi& api, EventPublisher& publisher, SyncStore& store, Clock& clock)
    : api_(api), publisher_(publisher), store_(store), clock_(clock) {}

EntitySyncResult EntitySyncer::run(const EntitySyncRequest& request) {
  EntitySyncResult result;
  result.run_id =
      store_.start_run(RunKind::kSync, std::string(object_name(request.kind)) + " " + request.id,
                       request.dry_run, std::nullopt);
  try {
    KindCounts& c = result.counts.kinds[request.kind];
    std::optional<ApiEntity> entity = api_.get(request.kind, request.id);
    result.found = entity.has_value();
    if (entity) {
      ++c.fetched;
      if (!request.dry_run) {
        publisher_.publish({sync_event::snapshot(request.kind, *entity, Source::kSync,
                                                 result.run_id, clock_.wall_ms())});
        ++c.published;
      }
      if (request.kind == EntityKind::kOrganization) sync_memberships(request, result);
    } else {
      auto rows = store_.mirror_rows(request.kind, {request.id});
      auto it = rows.find(request.id);
      if (it != rows.end() && !it->second.deleted) {
        result.deleted = true;
        if (!request.dry_run) {
          publisher_.publish({sync_event::deletion(request.kind, it->second, Source::kSync,
                                                   result.run_id, clock_.wall_ms())});
          ++c.published;
        }
      }
    }
    result.counts.api = api_.stats();
    result.status = RunStatus::kSucceeded;
    store_.finish_run(result.run_id, result.status, result.counts, 0, "", "");
    return result;
  } catch (const std::exception& e) {
    result.counts.api = api_.stats();
    bool stopped = clock_.stop_requested();
    result.status = stopped ? RunStatus::kInterrupted : RunStatus::kFailed;
    store_.finish_run(result.run_id, result.status, result.counts, 0, "",
                      stopped ? "interrupted by a stop request" : e.what());
    throw;
  }
}

void EntitySyncer::sync_memberships(const EntitySyncRequest& request, EntitySyncResult& result) {
  const EntityKind kind = EntityKind::kMembership;
  KindCounts& c = result.counts.kinds[kind];
  // The mirror's alive memberships before the walk starts: each existed at the source
  // before the walk, so if the walk (which takes every entity that exists
  // throughout) does not list it, it is gone. One created meanwhile is not among
  // them, whatever this machine's clock says against Clerk's.
  std::vector<MirrorRow> candidates = store_.alive_memberships(request.id);
  std::unordered_set<std::string> listed;
  PageCursor cursor(request.page_size, request.overlap);
  while (!cursor.done()) {
    if (clock_.stop_requested()) throw RunInterrupted();
    ApiPage page = api_.list(kind, request.id, request.page_size, cursor.request_offset());
    ++c.pages;
    PageStep step = cursor.accept(page.items);
    if (step.stepped_back) continue;
    std::vector<common::kafka::OutgoingRecord> records;
    std::int64_t now_ms = clock_.wall_ms();
    for (std::size_t i : step.fresh) {
      listed.insert(page.items[i].id);
      records.push_back(
          sync_event::snapshot(kind, page.items[i], Source::kSync, result.run_id, now_ms));
    }
    c.fetched += static_cast<std::int64_t>(step.fresh.size());
    if (!request.dry_run) {
      c.published += static_cast<std::int64_t>(records.size());
      publisher_.publish(std::move(records));
    }
  }
  std::vector<common::kafka::OutgoingRecord> deletions;
  for (const MirrorRow& row : candidates) {
    if (listed.count(row.id) > 0) continue;
    ++result.memberships_deleted;
    deletions.push_back(
        sync_event::deletion(kind, row, Source::kSync, result.run_id, clock_.wall_ms()));
  }
  if (!request.dry_run && !deletions.empty()) {
    c.published += static_cast<std::int64_t>(deletions.size());
    publisher_.publish(std::move(deletions));
  }
}

}  // namespace worker::sync
