#pragma once
#include <memory>

#include "worker/store/mirror_store.hpp"

/// A MirrorTransaction and a MirrorStore that forward every call to real ones:
/// tests derive from them and override the step they put a fault into.
namespace worker_test {

class ForwardingTransaction : public worker::store::MirrorTransaction {
 public:
  explicit ForwardingTransaction(std::unique_ptr<worker::store::MirrorTransaction> real)
      : real_(std::move(real)) {}
  worker::store::Claim claim(const std::vector<worker::store::PartitionRange>& ranges) override {
    return real_->claim(ranges);
  }
  void set_cascade_lock(worker::store::CascadeLock lock) override { real_->set_cascade_lock(lock); }
  std::unordered_set<std::string> known_event_ids(const std::vector<std::string>& ids) override {
    return real_->known_event_ids(ids);
  }
  std::vector<std::size_t> apply(std::span<const worker::apply::InboundEvent> events,
                                 const worker::apply::EffectPlan& plan) override {
    return real_->apply(events, plan);
  }
  void record(std::span<const worker::apply::InboundEvent> events,
              std::span<const worker::apply::Outcome> outcomes) override {
    real_->record(events, outcomes);
  }
  void store_offsets(const std::vector<worker::store::PartitionRange>& ranges) override {
    real_->store_offsets(ranges);
  }
  void commit() override { real_->commit(); }

 private:
  std::unique_ptr<worker::store::MirrorTransaction> real_;
};

class ForwardingStore : public worker::store::MirrorStore {
 public:
  explicit ForwardingStore(worker::store::MirrorStore& real) : real_(real) {}
  std::unique_ptr<worker::store::MirrorTransaction> begin() override { return real_.begin(); }
  std::vector<common::kafka::TopicPartition> load_offsets(
      const std::vector<common::kafka::TopicPartition>& partitions) override {
    return real_.load_offsets(partitions);
  }
  std::int64_t prune_audit(std::chrono::hours retention, std::int64_t limit) override {
    return real_.prune_audit(retention, limit);
  }

 private:
  worker::store::MirrorStore& real_;
};

}  // namespace worker_test
