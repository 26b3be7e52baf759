#pragma once
#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "worker/sync/clock.hpp"
#include "worker/sync/event_publisher.hpp"
#include "worker/sync/http_transport.hpp"
#include "worker/sync/progress_reporter.hpp"
#include "worker/sync/sync_store.hpp"

/// In-memory stand-ins for the sync code's collaborators, for unit tests.
namespace sync_test {

/// A clock that only moves when someone sleeps: sleeps return at once and
/// advance the time. `request_stop()` simulates a stop request.
class ManualClock : public worker::sync::Clock {
 public:
  TimePoint now() override { return now_; }
  std::int64_t wall_ms() override {
    return 1800000000000 +
           std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch()).count();
  }
  bool sleep_until(TimePoint deadline) override {
    if (deadline > now_) {
      sleeps.push_back(deadline - now_);
      now_ = deadline;
    }
    return !stop_;
  }
  bool stop_requested() override { return stop_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }
  void request_stop() { stop_ = true; }
  std::vector<TimePoint::duration> sleeps;

 private:
  TimePoint now_{std::chrono::hours(1)};
  bool stop_ = false;
};

/// Answers from a script, in order; records each request and the clock's time.
class ScriptedTransport : public worker::sync::HttpTransport {
 public:
  explicit ScriptedTransport(worker::sync::Clock& clock) : clock_(clock) {}
  void push(worker::sync::HttpResponse response) { script_.push_back(std::move(response)); }
  void push_status(int status, std::string body = "{}", std::string retry_after = "") {
    worker::sync::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.retry_after = std::move(retry_after);
    push(std::move(r));
  }
  worker::sync::HttpResponse get(const std::string& url, const std::vector<std::string>& headers,
                                 std::chrono::milliseconds) override {
    calls.push_back({url, headers, clock_.now()});
    if (script_.empty()) throw std::logic_error("ScriptedTransport: no answer left for " + url);
    auto r = std::move(script_.front());
    script_.pop_front();
    return r;
  }
  struct Call {
    std::string url;
    std::vector<std::string> headers;
    worker::sync::Clock::TimePoint at;
  };
  std::vector<Call> calls;

 private:
  worker::sync::Clock& clock_;
  std::deque<worker::sync::HttpResponse> script_;
};

/// Keeps every batch; can fail the n-th publish() call.
class RecordingPublisher : public worker::sync::EventPublisher {
 public:
  void publish(std::vector<common::kafka::OutgoingRecord> records) override {
    ++calls;
    if (fail_on_call == calls) throw worker::sync::PublishError("injected publish failure");
    for (auto& r : records)
      published.push_back(std::move(r));
  }
  std::vector<common::kafka::OutgoingRecord> published;
  int calls = 0;
  int fail_on_call = -1;
  std::string header(std::size_t i, std::string_view name) const {
    const auto* h = common::kafka::find_header(published.at(i).headers, name);
    return h == nullptr ? "" : h->value;
  }
};

/// SyncStore over maps; the mirror is whatever the test puts in `mirror`.
class MemorySyncStore : public worker::sync::SyncStore {
 public:
  using EntityKind = worker::sync::EntityKind;
  bool try_lock(worker::sync::RunKind) override { return !locked_elsewhere; }
  std::optional<std::int64_t> close_abandoned_runs(worker::sync::RunKind kind) override {
    std::optional<std::int64_t> newest;
    for (auto& run : runs) {
      if (run.kind == kind && run.status == worker::sync::RunStatus::kRunning) {
        run.status = worker::sync::RunStatus::kInterrupted;
        newest = run.id;
      }
    }
    return newest;
  }
  std::int64_t start_run(worker::sync::RunKind kind, const std::string& scope, bool dry_run,
                         std::optional<std::int64_t> resumed_from) override {
    Run run;
    run.id = static_cast<std::int64_t>(runs.size() + 1);
    run.kind = kind;
    run.scope = scope;
    run.dry_run = dry_run;
    run.resumed_from = resumed_from;
    runs.push_back(std::move(run));
    return runs.back().id;
  }
  void record_progress(std::int64_t, const worker::sync::RunCounts&) override { ++progress_writes; }
  void finish_run(std::int64_t run_id, worker::sync::RunStatus status,
                  const worker::sync::RunCounts& counts, std::int64_t drift_found,
                  const std::string& drift_json, const std::string& error) override {
    Run& run = runs.at(static_cast<std::size_t>(run_id - 1));
    run.status = status;
    run.counts = counts;
    run.drift_found = drift_found;
    run.drift_json = drift_json;
    run.error = error;
  }
  std::optional<std::string> run_scope(std::int64_t run_id) override {
    if (run_id < 1 || run_id > static_cast<std::int64_t>(runs.size())) return std::nullopt;
    return runs[static_cast<std::size_t>(run_id - 1)].scope;
  }
  std::optional<std::int64_t> latest_run(worker::sync::RunKind kind) override {
    std::optional<std::int64_t> newest;
    for (const auto& run : runs) {
      if (run.kind == kind && !run.dry_run) newest = run.id;
    }
    return newest;
  }
  std::optional<worker::sync::BackfillCheckpoint> load_checkpoint(EntityKind phase) override {
    auto it = checkpoints.find(phase);
    if (it == checkpoints.end()) return std::nullopt;
    return it->second;
  }
  void save_checkpoint(const worker::sync::BackfillCheckpoint& c) override {
    ++checkpoint_writes;
    checkpoints[c.phase] = c;
  }
  void clear_checkpoint(EntityKind phase) override { checkpoints.erase(phase); }
  std::unordered_map<std::string, worker::sync::MirrorRow> mirror_rows(
      EntityKind kind, const std::vector<std::string>& ids) override {
    std::unordered_map<std::string, worker::sync::MirrorRow> out;
    for (const auto& id : ids) {
      auto it = mirror[kind].find(id);
      if (it != mirror[kind].end()) out[id] = it->second;
    }
    return out;
  }
  std::vector<std::string> remember_seen(EntityKind kind,
                                         const std::vector<std::string>& ids) override {
    std::vector<std::string> fresh;
    for (const auto& id : ids) {
      if (seen[kind].insert(id).second) fresh.push_back(id);
    }
    return fresh;
  }
  void forget_seen() override { seen.clear(); }
  std::vector<worker::sync::MirrorRow> unseen_alive_rows(EntityKind kind,
                                                         std::int64_t before) override {
    std::vector<worker::sync::MirrorRow> out;
    for (const auto& [id, row] : mirror[kind]) {
      if (!row.deleted && row.created_at_ms < before && seen[kind].count(id) == 0)
        out.push_back(row);
    }
    return out;
  }
  std::vector<worker::sync::MirrorRow> alive_memberships(const std::string& org) override {
    std::vector<worker::sync::MirrorRow> out;
    for (const auto& [id, row] : mirror[EntityKind::kMembership]) {
      if (!row.deleted && row.organization_id == org) out.push_back(row);
    }
    return out;
  }
  std::vector<worker::sync::RunSummary> recent_runs(int) override { return {}; }

  struct Run {
    std::int64_t id = 0;
    worker::sync::RunKind kind = worker::sync::RunKind::kBackfill;
    std::string scope;
    bool dry_run = false;
    worker::sync::RunStatus status = worker::sync::RunStatus::kRunning;
    std::optional<std::int64_t> resumed_from;
    worker::sync::RunCounts counts;
    std::int64_t drift_found = 0;
    std::string drift_json;
    std::string error;
  };
  std::vector<Run> runs;
  std::map<EntityKind, worker::sync::BackfillCheckpoint> checkpoints;
  std::map<EntityKind, std::map<std::string, worker::sync::MirrorRow>> mirror;
  std::map<EntityKind, std::set<std::string>> seen;  ///< remember_seen, for this run
  bool locked_elsewhere = false;
  int checkpoint_writes = 0;
  int progress_writes = 0;
};

class SilentProgress : public worker::sync::ProgressReporter {
 public:
  void update(const worker::sync::Progress& p) override { last = p; }
  void finish_phase(const worker::sync::Progress& p) override {
    last = p;
    ++phases_finished;
  }
  worker::sync::Progress last;
  int phases_finished = 0;
};

}  // namespace sync_test
