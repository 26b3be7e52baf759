#include "ingress/webhook/recent_deliveries.hpp"

#include <functional>

namespace ingress::webhook {

BodyFingerprint fingerprint(std::string_view body) {
  return {std::hash<std::string_view>{}(body), body.size()};
}

RecentDeliveries::RecentDeliveries(std::size_t capacity) : capacity_(capacity) {
  index_.reserve(capacity);
}

Recall RecentDeliveries::observe(std::string_view id, BodyFingerprint body) {
  if (capacity_ == 0) return Recall::kNew;
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(id); it != index_.end()) {
    order_.splice(order_.begin(), order_, it->second);
    const Entry& entry = *it->second;
    if (!(entry.body == body)) return Recall::kDifferentBody;
    return entry.persisted ? Recall::kSameBodyPersisted : Recall::kSameBody;
  }
  if (order_.size() >= capacity_) {
    index_.erase(order_.back().id);
    order_.pop_back();
  }
  order_.push_front(Entry{std::string(id), body, false});
  index_.emplace(order_.front().id, order_.begin());
  return Recall::kNew;
}

void RecentDeliveries::mark_persisted(std::string_view id, BodyFingerprint body) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(id); it != index_.end() && it->second->body == body) {
    it->second->persisted = true;
  }
}

std::size_t RecentDeliveries::size() const {
  std::lock_guard lock(mutex_);
  return order_.size();
}

}  // namespace ingress::webhook
