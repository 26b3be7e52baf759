#pragma once
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ingress::webhook {

/// What the memory says about a verified delivery id.
enum class Recall {
  kNew,                ///< not seen (or forgotten): publish
  kSameBody,           ///< seen with this body, not known persisted: publish again (a retry)
  kSameBodyPersisted,  ///< seen with this body and the broker acknowledged it: answer 2xx only
  kDifferentBody,      ///< seen with another body: 409 id_reuse (bad-input row 43)
};

/// A bounded memory of recent delivery ids and a digest of their bodies, least
/// recently used forgotten first. Per process: replicas do not share it, so it is a
/// best-effort guard, not a guarantee (the worker's version check is the guarantee).
/// Capacity 0 disables it (everything is kNew). Thread-safe (one mutex). Pure: no
/// I/O, no clock.
class RecentDeliveries {
 public:
  explicit RecentDeliveries(std::size_t capacity);
  /// Looks `id` up and, when new, remembers it with `digest`.
  Recall observe(std::string_view id, std::string_view digest);
  /// Records that `id` with `digest` was persisted.
  void mark_persisted(std::string_view id, std::string_view digest);
  std::size_t size() const;

 private:
  struct Entry {
    std::string id;
    std::string digest;
    bool persisted = false;
  };
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> order_;  ///< most recent first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace ingress::webhook
