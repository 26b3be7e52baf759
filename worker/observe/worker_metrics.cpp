#include "worker/observe/worker_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <mutex>

#include "worker/retry/retry_policy.hpp"

namespace worker::observe {
namespace {

constexpr std::array<std::string_view, 10> kTypes = {
    "user.created",
    "user.updated",
    "user.deleted",
    "organization.created",
    "organization.updated",
    "organization.deleted",
    "organizationMembership.created",
    "organizationMembership.updated",
    "organizationMembership.deleted",
    "other",
};

std::size_t type_index(std::string_view type) {
  for (std::size_t i = 0; i + 1 < kTypes.size(); ++i) {
    if (kTypes[i] == type) return i;
  }
  return kTypes.size() - 1;
}

}  // namespace

struct WorkerMetrics::Impl {
  prometheus::Family<prometheus::Counter>* events;
  std::array<std::array<prometheus::Counter*, apply::kOutcomeCount>, kTypes.size()> event_counters;
  prometheus::Histogram* batch_size;
  prometheus::Histogram* apply_duration;
  prometheus::Histogram* delay;
  prometheus::Family<prometheus::Counter>* db_retries;
  prometheus::Family<prometheus::Counter>* retries;
  prometheus::Family<prometheus::Counter>* dead_letters;
  prometheus::Counter* fenced;
  prometheus::Counter* skipped;
  prometheus::Counter* assigned;
  prometheus::Counter* revoked;
  prometheus::Family<prometheus::Gauge>* lag;
  prometheus::Gauge* ready;
  std::mutex lag_mutex;
  std::map<std::pair<std::string, std::int32_t>, prometheus::Gauge*> lag_gauges;
};

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry) : impl_(std::make_unique<Impl>()) {
  auto& i = *impl_;
  i.events = &prometheus::BuildCounter()
                  .Name("clerk_mirror_worker_events_total")
                  .Help("Consumed events by type and outcome")
                  .Register(registry);
  for (std::size_t t = 0; t < kTypes.size(); ++t) {
    for (std::size_t o = 0; o < apply::kOutcomeCount; ++o) {
      i.event_counters[t][o] = &i.events->Add(
          {{"type", std::string(kTypes[t])},
           {"outcome", std::string(apply::to_string(static_cast<apply::Outcome>(o)))}});
    }
  }
  i.batch_size = &prometheus::BuildHistogram()
                      .Name("clerk_mirror_worker_batch_size_events")
                      .Help("Events per database transaction")
                      .Register(registry)
                      .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 50, 100, 250, 500,
                                                                       1000, 2500, 5000, 10000});
  i.apply_duration =
      &prometheus::BuildHistogram()
           .Name("clerk_mirror_worker_apply_duration_seconds")
           .Help("Duration of one batch's database transaction")
           .Register(registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  i.delay = &prometheus::BuildHistogram()
                 .Name("clerk_mirror_worker_end_to_end_delay_seconds")
                 .Help("Commit time minus the event's timestamp")
                 .Register(registry)
                 .Add({}, prometheus::Histogram::BucketBoundaries{
                              0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
                              1,     1.5,  2,     3,    5,     10,  30,   60,  300, 900, 3600});
  i.db_retries = &prometheus::BuildCounter()
                      .Name("clerk_mirror_worker_db_retries_total")
                      .Help(
                          "In-place retries of a batch after a transient failure, by SQLSTATE "
                          "class (or connection, in_doubt, other)")
                      .Register(registry);
  i.retries = &prometheus::BuildCounter()
                   .Name("clerk_mirror_worker_retry_published_total")
                   .Help("Failed events published to a retry topic, by level")
                   .Register(registry);
  i.dead_letters = &prometheus::BuildCounter()
                        .Name("clerk_mirror_worker_dead_letters_total")
                        .Help("Events published to the dead-letter topic, by error class")
                        .Register(registry);
  i.fenced = &prometheus::BuildCounter()
                  .Name("clerk_mirror_worker_fenced_batches_total")
                  .Help("Batches whose partitions another consumer had already moved past")
                  .Register(registry)
                  .Add({});
  i.skipped = &prometheus::BuildCounter()
                   .Name("clerk_mirror_worker_skipped_records_total")
                   .Help(
                       "Records between a partition's stored offset and the first record "
                       "consumed after it, never applied (deleted by retention first?)")
                   .Register(registry)
                   .Add({});
  auto& rebalances = prometheus::BuildCounter()
                         .Name("clerk_mirror_worker_rebalances_total")
                         .Help("Partition assignments and revocations")
                         .Register(registry);
  i.assigned = &rebalances.Add({{"kind", "assigned"}});
  i.revoked = &rebalances.Add({{"kind", "revoked"}});
  i.lag = &prometheus::BuildGauge()
               .Name("clerk_mirror_worker_consumer_lag_messages")
               .Help("High watermark minus position, per assigned partition")
               .Register(registry);
  i.ready = &prometheus::BuildGauge()
                 .Name("clerk_mirror_worker_ready")
                 .Help("1 once started, 0 while a batch fails and is retried in place")
                 .Register(registry)
                 .Add({});
}

WorkerMetrics::~WorkerMetrics() = default;

void WorkerMetrics::event(std::string_view type, apply::Outcome outcome, std::int64_t count) {
  impl_->event_counters[type_index(type)][static_cast<std::size_t>(outcome)]->Increment(
      static_cast<double>(count));
}

void WorkerMetrics::batch(std::size_t events, std::chrono::duration<double> apply_time) {
  impl_->batch_size->Observe(static_cast<double>(events));
  impl_->apply_duration->Observe(apply_time.count());
}

void WorkerMetrics::end_to_end_delay(double seconds) {
  impl_->delay->Observe(seconds);
}

void WorkerMetrics::db_retry(const std::string& failure_class) {
  impl_->db_retries->Add({{"class", failure_class}}).Increment();
}

void WorkerMetrics::retry_published(int level) {
  impl_->retries->Add({{"level", std::to_string(level)}}).Increment();
}

void WorkerMetrics::dead_lettered(const std::string& error_class) {
  impl_->dead_letters->Add({{"error_class", error_class}}).Increment();
}

void WorkerMetrics::fenced_batch() {
  impl_->fenced->Increment();
}

void WorkerMetrics::skipped_records(std::int64_t count) {
  impl_->skipped->Increment(static_cast<double>(count));
}

void WorkerMetrics::rebalance(bool assigned) {
  (assigned ? impl_->assigned : impl_->revoked)->Increment();
}

void WorkerMetrics::lag(
    const std::vector<std::pair<common::kafka::TopicPartition, std::int64_t>>& lag) {
  std::lock_guard lock(impl_->lag_mutex);
  std::map<std::pair<std::string, std::int32_t>, prometheus::Gauge*> current;
  for (const auto& [tp, value] : lag) {
    auto key = std::make_pair(tp.topic, tp.partition);
    auto it = impl_->lag_gauges.find(key);
    prometheus::Gauge* gauge =
        it != impl_->lag_gauges.end()
            ? it->second
            : &impl_->lag->Add({{"topic", tp.topic}, {"partition", std::to_string(tp.partition)}});
    gauge->Set(static_cast<double>(value));
    current[key] = gauge;
    if (it != impl_->lag_gauges.end()) impl_->lag_gauges.erase(it);
  }
  // Partitions no longer assigned stop being reported.
  for (const auto& [key, gauge] : impl_->lag_gauges)
    impl_->lag->Remove(gauge);
  impl_->lag_gauges = std::move(current);
}

void WorkerMetrics::ready(bool is_ready) {
  impl_->ready->Set(is_ready ? 1 : 0);
}

void WorkerMetrics::zero_failure_series(int retry_levels) {
  for (int level = 1; level <= retry_levels; ++level)
    impl_->retries->Add({{"level", std::to_string(level)}});
  for (const char* error_class : {"database", "malformed"})
    impl_->dead_letters->Add({{"error_class", error_class}});
  for (const auto& failure_class : retry::RetryPolicy::failure_labels())
    impl_->db_retries->Add({{"class", failure_class}});
}

}  // namespace worker::observe
