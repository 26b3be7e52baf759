#include "worker/apply/apply_plan.hpp"

#include <algorithm>
#include <map>

namespace worker::apply {
namespace {

using common::events::EntityKind;

/// Keeps, per entity id, the index of the event with the greatest key.
class Winners {
 public:
  void offer(const std::string& entity_id, std::size_t index, OrderKey key) {
    auto [it, inserted] = best_.try_emplace(entity_id, index, key);
    if (!inserted && it->second.second < key) it->second = {index, std::move(key)};
  }
  std::vector<std::size_t> take() const {
    std::vector<std::size_t> out;
    out.reserve(best_.size());
    for (const auto& [id, entry] : best_)
      out.push_back(entry.first);  // sorted by entity id
    return out;
  }

 private:
  std::map<std::string, std::pair<std::size_t, OrderKey>> best_;
};

}  // namespace

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kApplied:
      return "applied";
    case Outcome::kStale:
      return "stale";
    case Outcome::kDuplicate:
      return "duplicate";
    case Outcome::kIgnored:
      return "ignored";
    case Outcome::kRetried:
      return "retried";
    case Outcome::kDeadLettered:
      return "dead_lettered";
  }
  return "applied";
}

bool EffectPlan::empty() const {
  return user_fields.empty() && organization_fields.empty() && membership_fields.empty() &&
         user_deletions.empty() && organization_deletions.empty() && membership_deletions.empty();
}

bool EffectPlan::writes_memberships() const {
  return !membership_fields.empty() || !membership_deletions.empty();
}

bool EffectPlan::deletes_parents() const {
  return !user_deletions.empty() || !organization_deletions.empty();
}

EffectPlan plan_effects(std::span<const InboundEvent> events,
                        std::span<const std::size_t> candidates) {
  Winners fields[3];
  Winners deletions[3];
  for (std::size_t index : candidates) {
    const InboundEvent& e = events[index];
    if (e.status != InboundStatus::kMirrored) continue;
    auto kind = static_cast<std::size_t>(e.decoded.route.kind);
    if (e.has_fields()) fields[kind].offer(e.decoded.entity_id, index, e.fields_key());
    if (e.is_delete()) deletions[kind].offer(e.decoded.entity_id, index, e.deletion_key());
  }
  EffectPlan plan;
  plan.user_fields = fields[static_cast<std::size_t>(EntityKind::kUser)].take();
  plan.organization_fields = fields[static_cast<std::size_t>(EntityKind::kOrganization)].take();
  plan.membership_fields = fields[static_cast<std::size_t>(EntityKind::kMembership)].take();
  plan.user_deletions = deletions[static_cast<std::size_t>(EntityKind::kUser)].take();
  plan.organization_deletions =
      deletions[static_cast<std::size_t>(EntityKind::kOrganization)].take();
  plan.membership_deletions = deletions[static_cast<std::size_t>(EntityKind::kMembership)].take();
  return plan;
}

std::vector<std::string> lookup_ids(std::span<const InboundEvent> events) {
  std::vector<std::string> ids;
  for (const auto& e : events) {
    if (e.status == InboundStatus::kMirrored) ids.push_back(e.event_id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

BatchTriage triage(std::span<const InboundEvent> events,
                   const std::unordered_set<std::string>& known_event_ids) {
  BatchTriage t;
  t.settled.resize(events.size());
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    switch (e.status) {
      case InboundStatus::kMalformed:
        t.malformed.push_back(i);
        break;
      case InboundStatus::kIgnored:
        t.settled[i] = Outcome::kIgnored;
        break;
      case InboundStatus::kMirrored:
        if (known_event_ids.contains(e.event_id) || !seen.insert(e.event_id).second) {
          t.settled[i] = Outcome::kDuplicate;
        } else {
          t.candidates.push_back(i);
        }
        break;
    }
  }
  return t;
}

IsolationResult apply_isolating(
    std::span<const InboundEvent> events, std::vector<std::size_t> candidates,
    const std::function<std::vector<std::size_t>(const EffectPlan&)>& apply,
    const std::function<std::optional<EventFailure>(std::exception_ptr)>& caused_by_events) {
  IsolationResult result;
  // Depth-first over halves; a work list keeps the stack flat for large batches.
  std::vector<std::vector<std::size_t>> work;
  work.push_back(std::move(candidates));
  while (!work.empty()) {
    std::vector<std::size_t> part = std::move(work.back());
    work.pop_back();
    if (part.empty()) continue;
    EffectPlan plan = plan_effects(events, part);
    try {
      auto landed = apply(plan);
      result.landed.insert(result.landed.end(), landed.begin(), landed.end());
    } catch (...) {
      auto failure = caused_by_events(std::current_exception());
      if (!failure) throw;
      if (part.size() == 1) {
        result.failed.emplace_back(part.front(), std::move(*failure));
        continue;
      }
      auto middle = part.begin() + static_cast<std::ptrdiff_t>(part.size() / 2);
      work.emplace_back(middle, part.end());
      work.emplace_back(part.begin(), middle);
    }
  }
  std::sort(result.landed.begin(), result.landed.end());
  result.landed.erase(std::unique(result.landed.begin(), result.landed.end()), result.landed.end());
  return result;
}

}  // namespace worker::apply
