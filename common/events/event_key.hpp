#pragma once
#include <string>
#include <string_view>

#include "common/events/envelope_codec.hpp"

namespace common::events {

/// Which field of `data` keys an event type (schemas/events.md, "Keys").
enum class KeyField {
  kDataId,                   ///< `user.*`, `organization.*`, and every type without a rule
  kDataOrganizationId,       ///< `organizationMembership.*`: `data.organization.id`
  kDataOrganizationIdField,  ///< `organizationInvitation.*`: `data.organization_id`
  kDataUserId,               ///< `session.*`, `email.*`, `sms.*`: `data.user_id`
};

/// The preferred key field for `type` (prefix before the first dot). Pure.
KeyField key_field_for(std::string_view type);

/// The Kafka record key: the entity the event is about, so one entity's events
/// stay in one partition, in order. The preferred field for the type when present;
/// otherwise `data.id`; otherwise `event_id` (the svix-id, never empty). Pure.
std::string event_key(const EnvelopeFacts& facts, std::string_view event_id);

}  // namespace common::events
