#include "worker/sync/backfill_runner.hpp"

#include <algorithm>

#include "worker/sync/sync_event.hpp"

namespace worker::sync {
namespace {

using common::events::Source;

bool contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

BackfillRunner::BackfillRunner(ClerkApi& api, EventPublisher& publisher, SyncStore& store,
                               Clock& clock, ProgressReporter& progress)
    : api_(api), publisher_(publisher), store_(store), clock_(clock), progress_(progress) {}

std::optional<std::int64_t> BackfillRunner::prepare_checkpoints(const BackfillOptions& options) {
  if (options.restart) {
    if (options.users) store_.clear_checkpoint(EntityKind::kUser);
    if (options.walks_organizations()) store_.clear_checkpoint(EntityKind::kOrganization);
  }
  // Only the newest backfill's checkpoints are resumed: one left by an older run
  // (say users done, then a later run of organizations alone) is weeks stale, and
  // resuming it would skip what changed since.
  auto latest = store_.latest_run(RunKind::kBackfill);
  for (EntityKind phase : {EntityKind::kUser, EntityKind::kOrganization}) {
    auto c = store_.load_checkpoint(phase);
    if (c && c->run_id != latest) store_.clear_checkpoint(phase);
  }
  std::optional<std::int64_t> resumed_from;
  if (options.users) {
    if (auto c = store_.load_checkpoint(EntityKind::kUser)) resumed_from = c->run_id;
  }
  if (options.walks_organizations()) {
    if (auto c = store_.load_checkpoint(EntityKind::kOrganization)) {
      // The organizations checkpoint stands for organizations and memberships
      // alike: behind it lies only what the run that wrote it selected.
      auto scope = store_.run_scope(c->run_id);
      if (scope && EntitySelection::from_scope(*scope).covers(options)) {
        resumed_from = std::max(resumed_from.value_or(0), c->run_id);
      } else {
        store_.clear_checkpoint(EntityKind::kOrganization);
      }
    }
  }
  return resumed_from;
}

BackfillResult BackfillRunner::run(const BackfillOptions& options) {
  BackfillResult result;
  if (!options.dry_run) {
    if (!store_.try_lock(RunKind::kBackfill)) {
      throw RunBusy("another backfill is running (it holds the backfill lock)");
    }
    store_.close_abandoned_runs(RunKind::kBackfill);
    result.resumed_from = prepare_checkpoints(options);
  }
  result.run_id =
      store_.start_run(RunKind::kBackfill, options.scope(), options.dry_run, result.resumed_from);
  run_id_ = result.run_id;
  if (result.resumed_from) {
    // Taken over: this run is now the newest, and the checkpoints of the phases it
    // walks say so (another phase's is left to go stale).
    for (EntityKind phase : {EntityKind::kUser, EntityKind::kOrganization}) {
      bool walks = phase == EntityKind::kUser ? options.users : options.walks_organizations();
      if (!walks) continue;
      if (auto c = store_.load_checkpoint(phase)) {
        c->run_id = result.run_id;
        store_.save_checkpoint(*c);
      }
    }
  }
  try {
    if (options.dry_run) {
      count_only(options, result.counts);
    } else {
      if (options.users) walk_users(options, result.run_id, result.counts);
      if (options.walks_organizations()) walk_organizations(options, result.run_id, result.counts);
      if (options.users) store_.clear_checkpoint(EntityKind::kUser);
      if (options.walks_organizations()) store_.clear_checkpoint(EntityKind::kOrganization);
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
                      stopped ? "interrupted by a stop request; run again to resume" : e.what());
    if (stopped) return result;
    throw;
  }
}

void BackfillRunner::check_stop() {
  if (clock_.stop_requested()) throw RunInterrupted();
}

void BackfillRunner::count_only(const BackfillOptions& options, RunCounts& counts) {
  if (options.users) counts.kinds[EntityKind::kUser].expected = api_.count(EntityKind::kUser, "");
  if (!options.walks_organizations()) return;
  KindCounts& orgs = counts.kinds[EntityKind::kOrganization];
  orgs.expected = api_.count(EntityKind::kOrganization, "");
  resumed_base_ = 0;
  if (!options.memberships) return;
  // Clerk has no instance-wide membership count: sum each organization's.
  KindCounts& members = counts.kinds[EntityKind::kMembership];
  members.expected = 0;
  PageCursor cursor(options.page_size, options.overlap);
  while (!cursor.done()) {
    check_stop();
    ApiPage page =
        api_.list(EntityKind::kOrganization, "", options.page_size, cursor.request_offset());
    ++orgs.pages;
    PageStep step = cursor.accept(page.items);
    for (std::size_t i : step.fresh) {
      check_stop();
      ++orgs.fetched;
      members.expected += api_.count_memberships(page.items[i].id);
    }
    report(EntityKind::kOrganization, counts, false);
  }
}

void BackfillRunner::publish(EntityKind kind, const std::vector<ApiEntity>& entities,
                             const std::vector<std::size_t>& which, std::int64_t run_id,
                             RunCounts& counts) {
  std::vector<common::kafka::OutgoingRecord> records;
  records.reserve(which.size());
  std::int64_t now_ms = clock_.wall_ms();
  for (std::size_t i : which) {
    records.push_back(sync_event::snapshot(kind, entities[i], Source::kBackfill, run_id, now_ms));
  }
  publisher_.publish(std::move(records));
  counts.kinds[kind].published += static_cast<std::int64_t>(which.size());
}

void BackfillRunner::report(EntityKind kind, const RunCounts& counts, bool final) {
  auto it = counts.kinds.find(kind);
  if (it == counts.kinds.end()) return;
  Progress p;
  p.phase = std::string(plural_name(kind));
  p.pages = it->second.pages;
  p.entities = resumed_base_ + it->second.fetched;
  p.expected = it->second.expected;
  p.published = counts.published();
  // Memberships are walked inside the organizations phase.
  auto members = counts.kinds.find(EntityKind::kMembership);
  if (kind == EntityKind::kOrganization && members != counts.kinds.end()) {
    p.detail = std::to_string(members->second.fetched) + " memberships";
  }
  if (final) {
    progress_.finish_phase(p);
  } else {
    progress_.update(p);
  }
  // The run log shows live counts too, without a write per page.
  if (final || clock_.now() - last_recorded_ >= std::chrono::seconds(2)) {
    last_recorded_ = clock_.now();
    RunCounts snapshot = counts;
    snapshot.api = api_.stats();
    store_.record_progress(run_id_, snapshot);
  }
}

void BackfillRunner::walk_users(const BackfillOptions& options, std::int64_t run_id,
                                RunCounts& counts) {
  const EntityKind kind = EntityKind::kUser;
  BackfillCheckpoint state;
  state.phase = kind;
  if (auto saved = store_.load_checkpoint(kind)) state.outer = saved->outer;
  state.run_id = run_id;
  PageCursor cursor(options.page_size, options.overlap, state.outer);
  KindCounts& c = counts.kinds[kind];
  if (!cursor.done()) c.expected = api_.count(kind, "");
  resumed_base_ = state.outer.next_offset;
  while (!cursor.done()) {
    check_stop();
    ApiPage page = api_.list(kind, "", options.page_size, cursor.request_offset());
    ++c.pages;
    PageStep step = cursor.accept(page.items);
    if (step.stepped_back) continue;
    c.fetched += static_cast<std::int64_t>(step.fresh.size());
    publish(kind, page.items, step.fresh, run_id, counts);
    state.outer = cursor.position();
    store_.save_checkpoint(state);
    report(kind, counts, false);
  }
  // The checkpoint stays (done) until the whole run succeeds, so a resumed run skips this phase.
  report(kind, counts, true);
}

void BackfillRunner::walk_organizations(const BackfillOptions& options, std::int64_t run_id,
                                        RunCounts& counts) {
  const EntityKind kind = EntityKind::kOrganization;
  std::optional<BackfillCheckpoint> saved = store_.load_checkpoint(kind);
  BackfillCheckpoint state = saved.value_or(BackfillCheckpoint{});
  state.phase = kind;
  state.run_id = run_id;
  PageCursor cursor(options.page_size, options.overlap, state.outer);
  KindCounts& c = counts.kinds[kind];
  if (!cursor.done()) c.expected = api_.count(kind, "");
  resumed_base_ = state.outer.next_offset;
  // The first page after a resume is the page that was in progress: keep what
  // the checkpoint says was already done in it.
  bool resuming_page = saved.has_value();
  while (!cursor.done()) {
    check_stop();
    const CursorPosition before = cursor.position();
    ApiPage page = api_.list(kind, "", options.page_size, cursor.request_offset());
    ++c.pages;
    PageStep step = cursor.accept(page.items);
    if (step.stepped_back) continue;
    if (!resuming_page) {
      state.outer = before;
      state.page_published = false;
      state.page_done.clear();
      state.inner_organization.clear();
      state.inner = CursorPosition{};
    }
    resuming_page = false;
    c.fetched += static_cast<std::int64_t>(step.fresh.size());
    if (options.organizations) {
      // A resumed page may now hold organizations it did not hold when it was
      // published (the list moved while no run was going): publish all but
      // those whose memberships are done, which were published for sure.
      std::vector<std::size_t> unpublished;
      for (std::size_t i : step.fresh) {
        if (!contains(state.page_done, page.items[i].id)) unpublished.push_back(i);
      }
      if (!state.page_published || !unpublished.empty()) {
        publish(kind, page.items, unpublished, run_id, counts);
        state.page_published = true;
        if (options.memberships) store_.save_checkpoint(state);
      }
    }
    report(kind, counts, false);
    if (options.memberships) {
      for (std::size_t i : step.fresh) {
        const std::string& organization_id = page.items[i].id;
        if (contains(state.page_done, organization_id)) continue;
        walk_memberships(options, organization_id, state, counts);
        state.page_done.push_back(organization_id);
        state.inner_organization.clear();
        state.inner = CursorPosition{};
        store_.save_checkpoint(state);
      }
    }
    state.outer = cursor.position();
    state.page_published = false;
    state.page_done.clear();
    store_.save_checkpoint(state);
  }
  report(kind, counts, true);
}

void BackfillRunner::walk_memberships(const BackfillOptions& options,
                                      const std::string& organization_id, BackfillCheckpoint& state,
                                      RunCounts& counts) {
  const EntityKind kind = EntityKind::kMembership;
  CursorPosition start =
      state.inner_organization == organization_id ? state.inner : CursorPosition{};
  PageCursor cursor(options.page_size, options.overlap, start);
  KindCounts& c = counts.kinds[kind];
  while (!cursor.done()) {
    check_stop();
    std::optional<ApiPage> page =
        api_.list_memberships(organization_id, options.page_size, cursor.request_offset());
    // Deleted since its page was listed: its organization.deleted event ends
    // its memberships in the mirror.
    if (!page) return;
    ++c.pages;
    PageStep step = cursor.accept(page->items);
    if (step.stepped_back) continue;
    c.fetched += static_cast<std::int64_t>(step.fresh.size());
    publish(kind, page->items, step.fresh, state.run_id, counts);
    if (!cursor.done()) {
      state.inner_organization = organization_id;
      state.inner = cursor.position();
      store_.save_checkpoint(state);
    }
    report(EntityKind::kOrganization, counts, false);
  }
}

}  // namespace worker::sync
