#include "worker/consume/consumer_loop.hpp"

#include <algorithm>
#include <set>

#include "common/events/event_contract.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/logging/logger.hpp"
#include "common/process/stop_signal.hpp"
#include "worker/consume/batch_processor.hpp"
#include "worker/observe/worker_metrics.hpp"
#include "worker/observe/worker_status.hpp"
#include "worker/retry/retry_policy.hpp"
#include "worker/store/mirror_store.hpp"

namespace worker::consume {
namespace {

using common::kafka::TopicPartition;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr milliseconds kIdlePoll{200};
constexpr milliseconds kSeekTimeout{5000};
constexpr std::int64_t kPruneChunk = 10000;

std::optional<std::int64_t> not_before(const common::kafka::ConsumedRecord& record) {
  const auto* h = common::kafka::find_header(record.headers, common::events::header::kNotBefore);
  if (h == nullptr) return std::nullopt;
  try {
    return std::stoll(h->value);
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable: apply now rather than hold forever
  }
}

using PartitionSet = std::set<std::pair<std::string, std::int32_t>>;

PartitionSet to_set(const std::vector<TopicPartition>& partitions) {
  PartitionSet set;
  for (const auto& tp : partitions)
    set.insert({tp.topic, tp.partition});
  return set;
}

}  // namespace

ConsumerLoop::ConsumerLoop(LoopSettings settings, store::MirrorStore& store,
                           BatchProcessor& processor, const retry::RetryPolicy& policy,
                           observe::WorkerMetrics& metrics, common::logging::Logger& logger,
                           Clock clock)
    : settings_(std::move(settings)),
      store_(store),
      processor_(processor),
      policy_(policy),
      metrics_(metrics),
      logger_(logger),
      clock_(std::move(clock)),
      random_(std::random_device{}()) {}

bool ConsumerLoop::is_retry_topic(const std::string& topic) const {
  return topic.size() > settings_.topic.size() + 7 &&
         topic.rfind(settings_.topic + ".retry.", 0) == 0;
}

std::chrono::milliseconds ConsumerLoop::jittered_backoff(int attempt) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return policy_.backoff(attempt, unit(random_));
}

void ConsumerLoop::run(common::kafka::KafkaConsumer& consumer, common::process::StopSignal& stop) {
  consumer_ = &consumer;
  std::vector<std::string> topics{settings_.topic};
  std::string names = settings_.topic;
  for (int level = 1; level <= settings_.retry_levels; ++level) {
    topics.push_back(common::events::retry_topic(settings_.topic, level));
    names += "," + topics.back();
  }
  consumer.subscribe(topics);
  logger_.info("consuming", {{"topics", names}});
  while (!stop.stop_requested()) {
    housekeeping();
    if (collect(stop)) apply_pending(stop, false);
  }
  if (!batch_.empty()) apply_pending(stop, true);
  logger_.info("leaving the consumer group");
  consumer.close();  // runs on_revoked
  consumer_ = nullptr;
}

bool ConsumerLoop::collect(common::process::StopSignal& stop) {
  if (!deferred_.empty()) {
    auto records = std::move(deferred_);
    deferred_.clear();
    for (auto& record : records)
      accept(std::move(record));
  }
  std::optional<SteadyClock::time_point> deadline;
  if (!batch_.empty()) deadline = SteadyClock::now() + settings_.batch_max_wait;
  auto idle_until = SteadyClock::now() + kIdlePoll;
  while (batch_.size() < settings_.batch_max_events && !stop.stop_requested()) {
    auto now = SteadyClock::now();
    milliseconds wait;
    if (!deadline) {
      if (now >= idle_until) break;
      wait = std::chrono::duration_cast<milliseconds>(idle_until - now) + milliseconds(1);
    } else {
      if (now >= *deadline) break;
      wait = std::chrono::duration_cast<milliseconds>(*deadline - now) + milliseconds(1);
    }
    auto record = consumer_->poll(std::min(wait, milliseconds(100)));
    if (!record) continue;
    accept(std::move(*record));
    if (!deadline && !batch_.empty()) deadline = SteadyClock::now() + settings_.batch_max_wait;
  }
  return !batch_.empty();
}

void ConsumerLoop::accept(common::kafka::ConsumedRecord record) {
  // Fetched before the pause took effect; the hold re-reads it from the held offset.
  if (holds_.held(record.topic, record.partition)) return;
  // Its stored offset is not known yet; it is read again once it is.
  if (is_waiting(record.topic, record.partition)) return;
  if (is_retry_topic(record.topic)) {
    auto due = not_before(record);
    if (due && *due > clock_()) {
      holds_.hold(record.topic, record.partition, record.offset, *due);
      TopicPartition at{record.topic, record.partition, record.offset};
      consumer_->pause({at});
      try {
        consumer_->seek({at}, kSeekTimeout);
      } catch (const common::kafka::KafkaError& e) {
        // Seeking again on release (housekeeping) makes up for it.
        logger_.warn("seek on hold failed", {{"topic", at.topic}, {"error", e.what()}});
      }
      logger_.debug("retry partition held", {{"topic", at.topic},
                                             {"partition", at.partition},
                                             {"offset", at.offset},
                                             {"until_ms", *due}});
      return;
    }
  }
  batch_.push_back(apply::read_inbound(std::move(record), decoder_));
}

void ConsumerLoop::apply_pending(common::process::StopSignal& stop, bool once) {
  int attempt = 0;
  while (!batch_.empty()) {
    std::vector<TopicPartition> fenced;
    try {
      BatchResult result = processor_.process(batch_, fenced);
      seek_fenced(fenced);
      consumer_->commit_async(result.committed);
      if (attempt > 0)
        logger_.info("batch applied after retrying in place", {{"attempts", attempt + 1}});
      batch_.clear();
    } catch (const std::exception& e) {
      auto error = std::current_exception();
      seek_fenced(fenced);  // the fence holds even though the rest of the batch failed
      ++attempt;
      metrics_.ready(false);
      metrics_.db_retry(retry::RetryPolicy::failure_label(error));
      if (settings_.status != nullptr) {
        settings_.status->failed(
            {"batch", retry::RetryPolicy::failure_label(error), e.what(), "", clock_()});
      }
      if (policy_.classify(error) != retry::Disposition::kRetryInPlace) {
        logger_.error("batch failed outside event isolation; retrying in place",
                      {{"error", e.what()}});
      }
      if (once) {
        logger_.warn("pending batch abandoned at shutdown (not committed)",
                     {{"error", e.what()}, {"events", batch_.size()}});
        batch_.clear();
        break;
      }
      auto delay = jittered_backoff(attempt);
      if (attempt <= 3 || attempt % 10 == 0) {
        logger_.warn("batch failed; retrying in place", {{"error", e.what()},
                                                         {"attempt", attempt},
                                                         {"backoff_ms", delay.count()},
                                                         {"events", batch_.size()}});
      }
      if (!paused_all_) {
        consumer_->pause(consumer_->assignment());
        paused_all_ = true;
      }
      wait_polling(delay, stop);
      if (stop.stop_requested()) {
        logger_.warn("pending batch abandoned at shutdown (not committed)",
                     {{"events", batch_.size()}});
        batch_.clear();
        deferred_.clear();
      }
    }
  }
  if (paused_all_) {
    paused_all_ = false;
    resume_unheld();
  }
}

void ConsumerLoop::seek_fenced(const std::vector<TopicPartition>& fenced) {
  if (fenced.empty()) return;
  auto gone = to_set(fenced);
  // Polled past the batch; they come again from the stored offset.
  std::erase_if(deferred_, [&](const common::kafka::ConsumedRecord& r) {
    return gone.contains({r.topic, r.partition});
  });
  for (const auto& tp : fenced) {
    try {
      consumer_->seek({tp}, kSeekTimeout);
    } catch (const common::kafka::KafkaError& e) {
      logger_.info("fenced partition not re-seeked (no longer assigned?)",
                   {{"topic", tp.topic}, {"partition", tp.partition}, {"error", e.what()}});
    }
  }
}

void ConsumerLoop::wait_polling(milliseconds delay, common::process::StopSignal& stop) {
  auto until = SteadyClock::now() + delay;
  while (!stop.stop_requested()) {
    auto now = SteadyClock::now();
    if (now >= until) break;
    auto left = std::chrono::duration_cast<milliseconds>(until - now) + milliseconds(1);
    // Keeps the group membership alive and serves rebalances while the batch waits.
    auto record = consumer_->poll(std::min(left, milliseconds(100)));
    if (record) {
      deferred_.push_back(std::move(*record));
      consumer_->pause(consumer_->assignment());  // newly assigned partitions too
    }
  }
}

void ConsumerLoop::resume_unheld() {
  auto held = to_set(holds_.partitions());
  std::vector<TopicPartition> resume;
  for (const auto& tp : consumer_->assignment()) {
    if (held.contains({tp.topic, tp.partition}) || is_waiting(tp.topic, tp.partition)) continue;
    resume.push_back({tp.topic, tp.partition});
  }
  consumer_->resume(resume);
}

void ConsumerLoop::housekeeping() {
  auto now = clock_();
  start_waiting(now);
  for (const auto& tp : holds_.release_due(now)) {
    try {
      consumer_->seek({tp}, kSeekTimeout);
      consumer_->resume({tp});
    } catch (const common::kafka::KafkaError& e) {
      holds_.hold(tp.topic, tp.partition, tp.offset, now + 1000);
      logger_.warn("releasing a held retry partition failed; trying again",
                   {{"topic", tp.topic}, {"partition", tp.partition}, {"error", e.what()}});
    }
  }
  if (now >= next_lag_ms_) {
    next_lag_ms_ = now + settings_.lag_interval.count();
    std::vector<std::pair<TopicPartition, std::int64_t>> lag;
    if (consumer_->lag(&lag) >= 0) {
      metrics_.lag(lag);
      if (settings_.status != nullptr) settings_.status->lag(std::move(lag), now);
    }
  }
  if (settings_.audit_retention.count() > 0 && now >= next_prune_ms_) {
    try {
      auto deleted = store_.prune_audit(settings_.audit_retention, kPruneChunk);
      if (deleted > 0) logger_.info("audit trail pruned", {{"rows", deleted}});
      next_prune_ms_ = now + (deleted == kPruneChunk ? 1000 : 600000);
    } catch (const std::exception& e) {
      logger_.warn("pruning the audit trail failed", {{"error", e.what()}});
      next_prune_ms_ = now + 60000;
    }
  }
}

std::optional<std::vector<TopicPartition>> ConsumerLoop::load_offsets(
    const std::vector<TopicPartition>& partitions, int attempt) {
  try {
    auto offsets = store_.load_offsets(partitions);
    for (const auto& tp : offsets) {
      logger_.info("partition assigned",
                   {{"topic", tp.topic}, {"partition", tp.partition}, {"start_offset", tp.offset}});
    }
    if (attempt > 1) logger_.info("stored offsets read after retrying", {{"attempts", attempt}});
    return offsets;
  } catch (const std::exception& e) {
    metrics_.db_retry(retry::RetryPolicy::failure_label(std::current_exception()));
    if (attempt <= 3 || attempt % 10 == 0) {
      logger_.warn("reading stored offsets failed; the assignment waits and is retried",
                   {{"error", e.what()}, {"attempt", attempt}, {"partitions", partitions.size()}});
    }
    return std::nullopt;
  }
}

common::kafka::Assignment ConsumerLoop::on_assigned(const std::vector<TopicPartition>& partitions) {
  metrics_.rebalance(true);
  waiting_.clear();
  // One try here; on failure the partitions are assigned paused and the loop
  // retries with backoff while it goes on polling, instead of holding the
  // rebalance callback (and with it the group's next rebalance) for the outage.
  if (auto offsets = load_offsets(partitions, 1)) return {std::move(*offsets), false};
  waiting_attempt_ = 1;
  next_waiting_ms_ = clock_() + jittered_backoff(waiting_attempt_).count();
  for (const auto& tp : partitions)
    waiting_.push_back({tp.topic, tp.partition, common::kafka::kOffsetBeginning});
  // Anything fetched before the pause lies before the stored offsets and is fenced.
  return {waiting_, true};
}

bool ConsumerLoop::is_waiting(const std::string& topic, std::int32_t partition) const {
  return std::any_of(waiting_.begin(), waiting_.end(), [&](const TopicPartition& tp) {
    return tp.partition == partition && tp.topic == topic;
  });
}

void ConsumerLoop::start_waiting(std::int64_t now) {
  if (waiting_.empty() || now < next_waiting_ms_) return;
  ++waiting_attempt_;
  auto offsets = load_offsets(waiting_, waiting_attempt_);
  if (!offsets) {
    next_waiting_ms_ = clock_() + jittered_backoff(waiting_attempt_).count();
    return;
  }
  try {
    // Resume, then seek: a seek made while the partition was paused right from
    // its assignment can be lost (librdkafka issue #2190). Nothing is polled in
    // between, and records fetched before the seek are discarded by librdkafka.
    consumer_->resume(waiting_);
    consumer_->seek(*offsets, kSeekTimeout);
    waiting_.clear();
  } catch (const common::kafka::KafkaError& e) {
    logger_.warn("starting partitions at their stored offsets failed; retrying",
                 {{"error", e.what()}, {"attempt", waiting_attempt_}});
    try {
      consumer_->pause(waiting_);
    } catch (const common::kafka::KafkaError&) {
      // Records polled meanwhile are dropped by accept() while the partition waits.
    }
    next_waiting_ms_ = clock_() + jittered_backoff(waiting_attempt_).count();
  }
}

void ConsumerLoop::on_revoked(const std::vector<TopicPartition>& partitions) {
  metrics_.rebalance(false);
  auto revoked = to_set(partitions);
  std::erase_if(waiting_, [&](const TopicPartition& tp) {
    return revoked.contains({tp.topic, tp.partition});
  });
  auto before = batch_.size();
  std::erase_if(batch_, [&](const apply::InboundEvent& e) {
    return revoked.contains({e.record.topic, e.record.partition});
  });
  std::erase_if(deferred_, [&](const common::kafka::ConsumedRecord& r) {
    return revoked.contains({r.topic, r.partition});
  });
  holds_.release(partitions);
  if (consumer_ != nullptr) {
    try {
      consumer_->resume(partitions);  // leave nothing paused behind
    } catch (const common::kafka::KafkaError& e) {
      logger_.debug("resume on revocation failed", {{"error", e.what()}});
    }
  }
  logger_.info("partitions revoked", {{"partitions", partitions.size()},
                                      {"dropped_uncommitted_events", before - batch_.size()}});
}

}  // namespace worker::consume
