#pragma once
#include <compare>
#include <cstdint>
#include <string>

namespace worker::apply {

/// The total order events are compared by (issue 4): version, then event
/// timestamp, then event id. Upserts: version = the entity's updated_at (ms);
/// deletes: version = the envelope timestamp (ms). Event ids compare bytewise,
/// exactly like PostgreSQL's COLLATE "C" used for the *_event_id columns, so the
/// same winner emerges in C++ and in SQL. Value type.
struct OrderKey {
  std::int64_t version = 0;
  std::int64_t event_ts = 0;
  std::string event_id;

  std::strong_ordering operator<=>(const OrderKey& other) const {
    if (auto c = version <=> other.version; c != 0) return c;
    if (auto c = event_ts <=> other.event_ts; c != 0) return c;
    int c = event_id.compare(other.event_id);  // char_traits<char>: unsigned bytes
    return c < 0 ? std::strong_ordering::less
                 : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
  }
  bool operator==(const OrderKey& other) const = default;
};

}  // namespace worker::apply
