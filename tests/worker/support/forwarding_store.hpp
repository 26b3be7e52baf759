#pragma once
#include <memory>

#include "worker/store/mirror_store.hpp"

/// A MirrorTransaction that forwards every call to a real one: tests derive from
/// it and override the step they put a fault into.
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

}  // namespace worker_test
