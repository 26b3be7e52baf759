#include "worker/consume/batch_processor.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "common/logging/logger.hpp"
#include "worker/consume/failure_router.hpp"
#include "worker/observe/worker_metrics.hpp"
#include "worker/observe/worker_status.hpp"
#include "worker/retry/failure_copy.hpp"
#include "worker/retry/retry_policy.hpp"
#include "worker/store/store_error.hpp"

namespace worker::consume {
namespace {

using apply::InboundEvent;
using apply::Outcome;

// "22P05: ERROR:  unsupported Unicode escape sequence" from a multi-line server message.
std::string describe(const store::StoreError& e) {
  std::string text = e.what();
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return e.sqlstate().empty() ? text : e.sqlstate() + ": " + text;
}

}  // namespace

BatchProcessor::BatchProcessor(store::MirrorStore& store, FailureRouter& router,
                               const retry::RetryPolicy& policy, observe::WorkerMetrics& metrics,
                               common::logging::Logger& logger, ProcessorSettings settings,
                               Clock clock)
    : store_(store),
      router_(router),
      policy_(policy),
      metrics_(metrics),
      logger_(logger),
      settings_(std::move(settings)),
      clock_(std::move(clock)) {}

std::vector<store::PartitionRange> BatchProcessor::ranges_of(
    const std::vector<InboundEvent>& events) {
  std::map<std::pair<std::string, std::int32_t>, store::PartitionRange> by_partition;
  for (const auto& e : events) {
    auto [it, inserted] = by_partition.try_emplace({e.record.topic, e.record.partition});
    auto& range = it->second;
    if (inserted) {
      range = {e.record.topic, e.record.partition, e.record.offset, e.record.offset + 1};
    } else {
      range.first_offset = std::min(range.first_offset, e.record.offset);
      range.next_offset = std::max(range.next_offset, e.record.offset + 1);
    }
  }
  std::vector<store::PartitionRange> ranges;
  for (auto& [key, range] : by_partition)
    ranges.push_back(std::move(range));
  return ranges;
}

BatchResult BatchProcessor::process(std::vector<InboundEvent>& events,
                                    std::vector<common::kafka::TopicPartition>& fenced_out) {
  BatchResult result;
  auto started = std::chrono::steady_clock::now();

  std::unique_ptr<store::MirrorTransaction> tx;
  std::vector<store::PartitionRange> ranges;
  std::vector<store::PartitionRange> skipped;
  while (true) {
    if (events.empty()) {
      copied_.clear();  // all fenced: nothing of ours is pending
      return result;
    }
    ranges = ranges_of(events);
    tx = store_.begin();
    auto claim = tx->claim(ranges);
    auto& fenced = claim.fenced;
    if (fenced.empty()) {
      skipped = std::move(claim.skipped);
      break;
    }
    // Another consumer (or our own in-doubt commit) already stored offsets past
    // these records: they are not ours to apply.
    tx.reset();
    std::set<std::pair<std::string, std::int32_t>> gone;
    for (const auto& tp : fenced) {
      gone.insert({tp.topic, tp.partition});
      logger_.warn("partition fenced: its stored offset is past this batch",
                   {{"topic", tp.topic}, {"partition", tp.partition}, {"stored", tp.offset}});
    }
    std::erase_if(events, [&](const InboundEvent& e) {
      return gone.contains({e.record.topic, e.record.partition});
    });
    fenced_out.insert(fenced_out.end(), fenced.begin(), fenced.end());
    metrics_.fenced_batch();
  }

  auto known = tx->known_event_ids(apply::lookup_ids(events));
  auto triage = apply::triage(events, known);
  auto full_plan = apply::plan_effects(events, triage.candidates);
  tx->set_cascade_lock(full_plan.deletes_parents()      ? store::CascadeLock::kExclusive
                       : full_plan.writes_memberships() ? store::CascadeLock::kShared
                                                        : store::CascadeLock::kNone);
  auto isolation = apply::apply_isolating(
      events, triage.candidates,
      [&](const apply::EffectPlan& plan) { return tx->apply(events, plan); },
      [&](std::exception_ptr error) -> std::optional<apply::EventFailure> {
        if (policy_.classify(error) != retry::Disposition::kRetryLater) return std::nullopt;
        try {
          std::rethrow_exception(error);
        } catch (const store::StoreError& e) {
          return apply::EventFailure{"database", describe(e)};
        } catch (...) {
        }
        return std::nullopt;
      });

  std::vector<Outcome> outcomes(events.size(), Outcome::kStale);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (triage.settled[i]) outcomes[i] = *triage.settled[i];
  }
  for (std::size_t i : isolation.landed)
    outcomes[i] = Outcome::kApplied;

  // Failed and malformed events leave through the retry and dead-letter topics.
  std::vector<common::kafka::OutgoingRecord> copies;
  std::vector<std::tuple<std::string, std::int32_t, std::int64_t>> copied;  // their records
  std::vector<std::pair<int, std::string>> routed;                          // level, error class
  std::optional<observe::WorkerStatus::Failure> last_failure;
  auto now = clock_();
  auto route = [&](std::size_t i, const apply::EventFailure& failure, bool permanent) {
    auto hop = policy_.next_hop(events[i].attempt, permanent, now);
    const auto& record = events[i].record;
    std::tuple position{record.topic, record.partition, record.offset};
    if (!copied_.contains(position)) {  // else published by an earlier try of this batch
      copies.push_back(
          retry::failure_copy(events[i], settings_.topic, hop, failure, settings_.worker_name));
      copied.push_back(std::move(position));
    }
    outcomes[i] = hop.retry_level > 0 ? Outcome::kRetried : Outcome::kDeadLettered;
    routed.emplace_back(hop.retry_level, failure.error_class);
    last_failure = {"event", failure.error_class, failure.message, events[i].event_id, now};
    logger_.warn(
        hop.retry_level > 0 ? "event failed; published for a retry" : "event dead-lettered",
        {{"event_id", events[i].event_id},
         {"type", events[i].event_type},
         {"topic", events[i].record.topic},
         {"partition", events[i].record.partition},
         {"offset", events[i].record.offset},
         {"attempt", events[i].attempt},
         {"error", failure.message}});
  };
  for (const auto& [i, failure] : isolation.failed)
    route(i, failure, false);
  for (std::size_t i : triage.malformed)
    route(i, {"malformed", events[i].error}, true);
  router_.publish(copies);
  copied_.insert(copied.begin(), copied.end());

  tx->record(events, outcomes);
  tx->store_offsets(ranges);
  tx->commit();
  copied_.clear();

  // Committed: report.
  auto elapsed = std::chrono::steady_clock::now() - started;
  metrics_.batch(events.size(), elapsed);
  metrics_.ready(true);
  for (const auto& gap : skipped) {
    metrics_.skipped_records(gap.next_offset - gap.first_offset);
    logger_.error(
        "records skipped: this batch starts after the partition's stored offset, and "
        "the records between were never applied (deleted by the topic's retention "
        "before they were consumed?)",
        {{"topic", gap.topic},
         {"partition", gap.partition},
         {"stored_offset", gap.first_offset},
         {"batch_first_offset", gap.next_offset},
         {"records", gap.next_offset - gap.first_offset}});
  }
  for (const auto& [level, error_class] : routed) {
    if (level > 0) {
      metrics_.retry_published(level);
    } else {
      metrics_.dead_lettered(error_class);
    }
  }
  auto committed_at = clock_();
  for (std::size_t i = 0; i < events.size(); ++i) {
    metrics_.event(events[i].event_type, outcomes[i]);
    ++result.outcomes[static_cast<std::size_t>(outcomes[i])];
    if (outcomes[i] == Outcome::kApplied && events[i].event_ts_ms) {
      metrics_.end_to_end_delay(static_cast<double>(committed_at - *events[i].event_ts_ms) /
                                1000.0);
    }
  }
  for (const auto& r : ranges)
    result.committed.push_back({r.topic, r.partition, r.next_offset});
  if (settings_.status != nullptr) {
    const auto& last = events.back();
    settings_.status->committed(result.outcomes,
                                observe::WorkerStatus::LastEvent{
                                    last.event_id, last.event_type, last.source, last.record.topic,
                                    last.record.partition, last.record.offset, committed_at});
    if (last_failure) settings_.status->failed(std::move(*last_failure));
  }
  return result;
}

}  // namespace worker::consume
