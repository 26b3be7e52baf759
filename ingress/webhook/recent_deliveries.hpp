#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

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

/// A bounded memory of recent delivery ids and a fingerprint of their bodies. When
/// full, the clock algorithm picks what to forget: an entry looked up again since the
/// hand last passed gets a second chance, so ids being retried stay remembered (an
/// approximation of least recently used without moving anything on a lookup).
///
/// Flat storage, allocated once: a ring of entries holding ids of up to
/// kStoredIdBytes inline, and an open-addressing index of ring positions. Ids longer
/// than that are told apart by their hash, length and first kStoredIdBytes bytes.
/// Per process: replicas do not share it, so it is a best-effort guard, not a
/// guarantee (the worker's version check is the guarantee). Capacity 0 disables it
/// (everything is kNew). Thread-safe (one mutex). Pure: no I/O, no clock.
class RecentDeliveries {
 public:
  static constexpr std::size_t kStoredIdBytes = 64;

  explicit RecentDeliveries(std::size_t capacity);
  /// Looks `id` up and, when new, remembers it with `body`.
  Recall observe(std::string_view id, BodyFingerprint body);
  /// Records that `id` with `body` was persisted.
  void mark_persisted(std::string_view id, BodyFingerprint body);
  std::size_t size() const;

 private:
  struct Entry {
    std::uint64_t id_hash = 0;
    BodyFingerprint body;
    std::uint32_t id_size = 0;
    bool used = false;
    bool persisted = false;
    bool referenced = false;  ///< looked up since the clock hand last passed
    std::array<char, kStoredIdBytes> id{};
  };
  static constexpr std::uint32_t kEmpty = 0;  ///< index slots hold ring position + 1

  bool matches(const Entry& entry, std::uint64_t hash, std::string_view id) const;
  /// The ring position of `id`, or capacity_ when absent.
  std::size_t find(std::uint64_t hash, std::string_view id) const;
  void unindex(std::size_t position);
  void index(std::size_t position);
  std::size_t home(std::uint64_t hash) const { return static_cast<std::size_t>(hash) & mask_; }

  std::size_t capacity_;
  std::size_t mask_ = 0;
  mutable std::mutex mutex_;
  std::vector<Entry> ring_;
  std::vector<std::uint32_t> slots_;
  std::size_t hand_ = 0;  ///< the clock hand: the next ring position considered
  std::size_t size_ = 0;
};

}  // namespace ingress::webhook
