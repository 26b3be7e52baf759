#include "common/events/event_key.hpp"

namespace common::events {

KeyField key_field_for(std::string_view type) {
  std::string_view family = type.substr(0, type.find('.'));
  if (family.size() == type.size()) return KeyField::kDataId;  // no dot: no family rule
  if (family == "organizationMembership") return KeyField::kDataOrganizationId;
  if (family == "organizationInvitation") return KeyField::kDataOrganizationIdField;
  if (family == "session" || family == "email" || family == "sms") return KeyField::kDataUserId;
  return KeyField::kDataId;
}

std::string event_key(const EnvelopeFacts& facts, std::string_view event_id) {
  const std::optional<std::string>* preferred = &facts.data_id;
  switch (key_field_for(facts.type)) {
    case KeyField::kDataId:
      break;
    case KeyField::kDataOrganizationId:
      preferred = &facts.data_organization_id;
      break;
    case KeyField::kDataOrganizationIdField:
      preferred = &facts.data_organization_id_field;
      break;
    case KeyField::kDataUserId:
      preferred = &facts.data_user_id;
      break;
  }
  if (*preferred) return **preferred;
  if (facts.data_id) return *facts.data_id;
  return std::string(event_id);
}

}  // namespace common::events
