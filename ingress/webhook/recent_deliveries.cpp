#include "ingress/webhook/recent_deliveries.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

namespace ingress::webhook {

BodyFingerprint fingerprint(std::string_view body) {
  return {std::hash<std::string_view>{}(body), body.size()};
}

RecentDeliveries::RecentDeliveries(std::size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0) return;
  // At most half full, so probe sequences stay short.
  std::size_t slots = 1;
  while (slots < 2 * capacity_)
    slots <<= 1;
  mask_ = slots - 1;
  ring_.resize(capacity_);
  slots_.assign(slots, kEmpty);
}

bool RecentDeliveries::matches(const Entry& entry, std::uint64_t hash, std::string_view id) const {
  if (entry.id_hash != hash || entry.id_size != id.size()) return false;
  std::size_t stored = std::min(id.size(), kStoredIdBytes);
  return std::memcmp(entry.id.data(), id.data(), stored) == 0;
}

std::size_t RecentDeliveries::find(std::uint64_t hash, std::string_view id) const {
  for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
    std::uint32_t slot = slots_[i];
    if (slot == kEmpty) return capacity_;
    if (matches(ring_[slot - 1], hash, id)) return slot - 1;
  }
}

void RecentDeliveries::index(std::size_t position) {
  std::size_t i = home(ring_[position].id_hash);
  while (slots_[i] != kEmpty)
    i = (i + 1) & mask_;
  slots_[i] = static_cast<std::uint32_t>(position + 1);
}

void RecentDeliveries::unindex(std::size_t position) {
  std::size_t hole = home(ring_[position].id_hash);
  while (slots_[hole] != position + 1)
    hole = (hole + 1) & mask_;
  // Backward-shift deletion: pull later members of the probe run into the hole so
  // that every entry stays reachable from its home slot without tombstones.
  for (std::size_t next = (hole + 1) & mask_; slots_[next] != kEmpty; next = (next + 1) & mask_) {
    std::size_t want = home(ring_[slots_[next] - 1].id_hash);
    bool movable = hole <= next ? (want <= hole || want > next) : (want <= hole && want > next);
    if (movable) {
      slots_[hole] = slots_[next];
      hole = next;
    }
  }
  slots_[hole] = kEmpty;
}

Recall RecentDeliveries::observe(std::string_view id, BodyFingerprint body) {
  if (capacity_ == 0) return Recall::kNew;
  std::uint64_t hash = std::hash<std::string_view>{}(id);
  std::lock_guard lock(mutex_);
  if (std::size_t at = find(hash, id); at != capacity_) {
    Entry& entry = ring_[at];
    entry.referenced = true;
    if (!(entry.body == body)) return Recall::kDifferentBody;
    return entry.persisted ? Recall::kSameBodyPersisted : Recall::kSameBody;
  }
  // The clock: skip (and clear) entries looked up since the last pass.
  while (ring_[hand_].used && ring_[hand_].referenced) {
    ring_[hand_].referenced = false;
    hand_ = (hand_ + 1) % capacity_;
  }
  Entry& entry = ring_[hand_];
  if (entry.used) {
    unindex(hand_);
  } else {
    ++size_;
  }
  entry.id_hash = hash;
  entry.body = body;
  entry.id_size = static_cast<std::uint32_t>(id.size());
  entry.used = true;
  entry.persisted = false;
  entry.referenced = false;
  std::memcpy(entry.id.data(), id.data(), std::min(id.size(), kStoredIdBytes));
  index(hand_);
  hand_ = (hand_ + 1) % capacity_;
  return Recall::kNew;
}

void RecentDeliveries::mark_persisted(std::string_view id, BodyFingerprint body) {
  if (capacity_ == 0) return;
  std::uint64_t hash = std::hash<std::string_view>{}(id);
  std::lock_guard lock(mutex_);
  if (std::size_t at = find(hash, id); at != capacity_ && ring_[at].body == body) {
    ring_[at].persisted = true;
  }
}

std::size_t RecentDeliveries::size() const {
  std::lock_guard lock(mutex_);
  return size_;
}

}  // namespace ingress::webhook
