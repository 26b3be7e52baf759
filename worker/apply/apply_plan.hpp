#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "worker/apply/inbound_event.hpp"

namespace worker::apply {

/// What became of one consumed record; recorded in clerk.applied_events.
enum class Outcome {
  kApplied,       ///< at least one half of its row changed
  kStale,         ///< lost to a newer event (in the batch or in the table)
  kDuplicate,     ///< its event id was already applied or found stale
  kIgnored,       ///< a type the mirror does not keep
  kRetried,       ///< failed on its own; published to the next retry topic
  kDeadLettered,  ///< malformed, or out of retries; published to the dead-letter topic
};
inline constexpr std::size_t kOutcomeCount = 6;
std::string_view to_string(Outcome outcome);

/// The writes of one batch, deduplicated per entity row: for each entity id, the
/// winning event of each half (fields, deletion) under OrderKey. Values are
/// indexes into the batch's events. Each list is sorted by entity id.
struct EffectPlan {
  std::vector<std::size_t> user_fields;
  std::vector<std::size_t> organization_fields;
  std::vector<std::size_t> membership_fields;  ///< upserts and membership deletions
  std::vector<std::size_t> user_deletions;
  std::vector<std::size_t> organization_deletions;
  std::vector<std::size_t> membership_deletions;

  bool empty() const;
  /// Writes memberships (which must see their user's and organization's tombstones).
  bool writes_memberships() const;
  /// Deletes users or organizations (which cascades to their memberships).
  bool deletes_parents() const;
};

/// Chooses the winners among `candidates` (kMirrored events). Pure.
EffectPlan plan_effects(std::span<const InboundEvent> events,
                        std::span<const std::size_t> candidates);

/// The part of a batch settled without writing entities.
struct BatchTriage {
  std::vector<std::size_t> candidates;          ///< mirrored events to write
  std::vector<std::size_t> malformed;           ///< straight to the dead-letter topic
  std::vector<std::optional<Outcome>> settled;  ///< per event: kDuplicate or kIgnored, else nullopt
};

/// Event ids worth looking up in the audit trail (those of mirrored events). Pure.
std::vector<std::string> lookup_ids(std::span<const InboundEvent> events);

/// Sorts a batch: mirrored events whose id is neither in `known_event_ids` (already
/// applied or stale) nor earlier in the batch are candidates; the rest are settled
/// as duplicates; ignored types are settled as ignored; malformed ones set aside. Pure.
BatchTriage triage(std::span<const InboundEvent> events,
                   const std::unordered_set<std::string>& known_event_ids);

/// Why an event could not be applied, as written into the dead-letter headers.
struct EventFailure {
  std::string error_class;  ///< malformed | database
  std::string message;
};

/// Result of apply_isolating().
struct IsolationResult {
  std::vector<std::size_t> landed;  ///< events that changed a row
  std::vector<std::pair<std::size_t, EventFailure>> failed;
};

/// Applies `candidates` with `apply` (which writes a plan inside a savepoint and
/// returns the events that landed). When `apply` throws and `caused_by_events`
/// turns the exception into an EventFailure, the set is split in halves and each
/// half is applied on its own, down to single events, so one poisonous event does
/// not hold back the others; events that fail alone are returned as failed. When
/// `caused_by_events` returns nullopt (a transient failure) the exception
/// propagates. Pure apart from the calls it makes.
IsolationResult apply_isolating(
    std::span<const InboundEvent> events, std::vector<std::size_t> candidates,
    const std::function<std::vector<std::size_t>(const EffectPlan&)>& apply,
    const std::function<std::optional<EventFailure>(std::exception_ptr)>& caused_by_events);

}  // namespace worker::apply
