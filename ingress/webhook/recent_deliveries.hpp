#pragma once
#include <cstddef>
#include <cstdint>
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

/// Which body a delivery carried: a 64-bit hash and the length. Not cryptographic,
/// and it need not be: only senders holding a webhook secret get this far, and a
/// collision could only make two bodies sent under one id look alike.
struct BodyFingerprint {
  std::uint64_t hash = 0;
  std::size_t size = 0;
  bool operator==(const BodyFingerprint&) const = default;
};

/// The fingerprint of `body` (std::hash over the bytes). Pure.
BodyFingerprint fingerprint(std::string_view body);

/// A bounded memory of recent delivery ids and a fingerprint of their bodies, least
/// recently used forgotten first. Per process: replicas do not share it, so it is a
/// best-effort guard, not a guarantee (the worker's version check is the guarantee).
/// Capacity 0 disables it (everything is kNew). Thread-safe (one mutex). Pure: no
/// I/O, no clock.
class RecentDeliveries {
 public:
  explicit RecentDeliveries(std::size_t capacity);
  /// Looks `id` up and, when new, remembers it with `body`.
  Recall observe(std::string_view id, BodyFingerprint body);
  /// Records that `id` with `body` was persisted.
  void mark_persisted(std::string_view id, BodyFingerprint body);
  std::size_t size() const;

 private:
  struct Entry {
    std::string id;
    BodyFingerprint body;
    bool persisted = false;
  };
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> order_;  ///< most recent first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace ingress::webhook
