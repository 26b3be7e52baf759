#include "worker/store/pg_entity_writer.hpp"

#include <string_view>
#include <unordered_map>

namespace worker::store {

using apply::InboundEvent;
using common::events::MembershipFields;
using common::events::OrganizationFields;
using common::events::UserFields;

/// A finished array as a binary statement parameter.
pqxx::binarystring binary(PgArray& array) {
  std::string bytes = array.finish();
  return pqxx::binarystring(bytes.data(), bytes.size());
}

PgArray text_array() {
  return PgArray(PgElement::kText);
}
PgArray int8_array() {
  return PgArray(PgElement::kInt8);
}
PgArray int4_array() {
  return PgArray(PgElement::kInt4);
}
PgArray bool_array() {
  return PgArray(PgElement::kBool);
}

namespace {

/// Maps the ids a RETURNING clause gives back to the events that wrote them.
class Landing {
 public:
  void expect(const std::string& entity_id, std::size_t event) { by_id_.emplace(entity_id, event); }
  void collect(const pqxx::result& rows, std::vector<std::size_t>& landed) const {
    for (const auto& row : rows) {
      auto it = by_id_.find(std::string_view(row[0].c_str(), row[0].size()));
      if (it != by_id_.end()) landed.push_back(it->second);
    }
  }

 private:
  std::unordered_map<std::string_view, std::size_t> by_id_;
};

}  // namespace

void write_users(pqxx::work& work, std::span<const InboundEvent> events,
                 const std::vector<std::size_t>& winners, std::vector<std::size_t>& landed) {
  if (winners.empty()) return;
  PgArray id = text_array(), created = int8_array(), updated = int8_array(), sign_in = int8_array(),
          first = text_array(), last = text_array(), username = text_array(), image = text_array(),
          external = text_array(), email = text_array(), phone = text_array(),
          email_id = text_array(), phone_id = text_array(), banned = bool_array(),
          locked = bool_array(), payload = text_array(), version = int8_array(), ts = int8_array(),
          eid = text_array();
  payload.reserve(winners.size() * 1024);
  Landing landing;
  for (std::size_t index : winners) {
    const auto& e = events[index];
    const auto& f = std::get<UserFields>(e.decoded.fields);
    auto key = e.fields_key();
    landing.expect(e.decoded.entity_id, index);
    id.add(std::string_view(e.decoded.entity_id));
    created.add(f.created_at_ms);
    updated.add(f.updated_at_ms);
    sign_in.add(f.last_sign_in_at_ms);
    first.add(f.first_name);
    last.add(f.last_name);
    username.add(f.username);
    image.add(f.image_url);
    external.add(f.external_id);
    email.add(f.primary_email_address);
    phone.add(f.primary_phone_number);
    email_id.add(f.primary_email_address_id);
    phone_id.add(f.primary_phone_number_id);
    banned.add(f.banned);
    locked.add(f.locked);
    payload.add(std::string_view(e.decoded.data_json));
    version.add(key.version);
    ts.add(key.event_ts);
    eid.add(std::string_view(key.event_id));
  }
  auto rows = work.exec_prepared("upsert_users", binary(id), binary(created), binary(updated),
                                 binary(sign_in), binary(first), binary(last), binary(username),
                                 binary(image), binary(external), binary(email), binary(phone),
                                 binary(email_id), binary(phone_id), binary(banned), binary(locked),
                                 binary(payload), binary(version), binary(ts), binary(eid));
  landing.collect(rows, landed);
}

void write_organizations(pqxx::work& work, std::span<const InboundEvent> events,
                         const std::vector<std::size_t>& winners,
                         std::vector<std::size_t>& landed) {
  if (winners.empty()) return;
  PgArray id = text_array(), created = int8_array(), updated = int8_array(), name = text_array(),
          slug = text_array(), image = text_array(), created_by = text_array(),
          members = int8_array(), max_members = int8_array(), admin_delete = bool_array(),
          payload = text_array(), version = int8_array(), ts = int8_array(), eid = text_array();
  payload.reserve(winners.size() * 512);
  Landing landing;
  for (std::size_t index : winners) {
    const auto& e = events[index];
    const auto& f = std::get<OrganizationFields>(e.decoded.fields);
    auto key = e.fields_key();
    landing.expect(e.decoded.entity_id, index);
    id.add(std::string_view(e.decoded.entity_id));
    created.add(f.created_at_ms);
    updated.add(f.updated_at_ms);
    name.add(f.name);
    slug.add(f.slug);
    image.add(f.image_url);
    created_by.add(f.created_by);
    members.add(f.members_count);
    max_members.add(f.max_allowed_memberships);
    admin_delete.add(f.admin_delete_enabled);
    payload.add(std::string_view(e.decoded.data_json));
    version.add(key.version);
    ts.add(key.event_ts);
    eid.add(std::string_view(key.event_id));
  }
  auto rows = work.exec_prepared(
      "upsert_organizations", binary(id), binary(created), binary(updated), binary(name),
      binary(slug), binary(image), binary(created_by), binary(members), binary(max_members),
      binary(admin_delete), binary(payload), binary(version), binary(ts), binary(eid));
  landing.collect(rows, landed);
}

void write_memberships(pqxx::work& work, std::span<const InboundEvent> events,
                       const std::vector<std::size_t>& winners, std::vector<std::size_t>& landed) {
  if (winners.empty()) return;
  PgArray id = text_array(), created = int8_array(), updated = int8_array(), org = text_array(),
          user = text_array(), role = text_array(), role_name = text_array(),
          payload = text_array(), version = int8_array(), ts = int8_array(), eid = text_array();
  payload.reserve(winners.size() * 768);
  Landing landing;
  for (std::size_t index : winners) {
    const auto& e = events[index];
    const auto& f = std::get<MembershipFields>(e.decoded.fields);
    auto key = e.fields_key();
    landing.expect(e.decoded.entity_id, index);
    id.add(std::string_view(e.decoded.entity_id));
    created.add(f.created_at_ms);
    updated.add(f.updated_at_ms);
    org.add(std::string_view(f.organization_id));
    user.add(std::string_view(f.user_id));
    role.add(f.role);
    role_name.add(f.role_name);
    payload.add(std::string_view(e.decoded.data_json));
    version.add(key.version);
    ts.add(key.event_ts);
    eid.add(std::string_view(key.event_id));
  }
  auto rows = work.exec_prepared("upsert_memberships", binary(id), binary(created), binary(updated),
                                 binary(org), binary(user), binary(role), binary(role_name),
                                 binary(payload), binary(version), binary(ts), binary(eid));
  landing.collect(rows, landed);
}

void write_deletions(pqxx::work& work, const char* statement, std::span<const InboundEvent> events,
                     const std::vector<std::size_t>& winners, std::vector<std::size_t>& landed) {
  if (winners.empty()) return;
  PgArray id = text_array(), version = int8_array(), ts = int8_array(), eid = text_array();
  Landing landing;
  for (std::size_t index : winners) {
    const auto& e = events[index];
    auto key = e.deletion_key();
    landing.expect(e.decoded.entity_id, index);
    id.add(std::string_view(e.decoded.entity_id));
    version.add(key.version);
    ts.add(key.event_ts);
    eid.add(std::string_view(key.event_id));
  }
  auto rows = work.exec_prepared(statement, binary(id), binary(version), binary(ts), binary(eid));
  landing.collect(rows, landed);
}

void write_membership_deletions(pqxx::work& work, std::span<const InboundEvent> events,
                                const std::vector<std::size_t>& winners,
                                std::vector<std::size_t>& landed) {
  if (winners.empty()) return;
  PgArray id = text_array(), org = text_array(), user = text_array(), version = int8_array(),
          ts = int8_array(), eid = text_array();
  Landing landing;
  for (std::size_t index : winners) {
    const auto& e = events[index];
    const auto& f = std::get<MembershipFields>(e.decoded.fields);
    auto key = e.deletion_key();
    landing.expect(e.decoded.entity_id, index);
    id.add(std::string_view(e.decoded.entity_id));
    org.add(std::string_view(f.organization_id));
    user.add(std::string_view(f.user_id));
    version.add(key.version);
    ts.add(key.event_ts);
    eid.add(std::string_view(key.event_id));
  }
  auto rows = work.exec_prepared("delete_memberships", binary(id), binary(org), binary(user),
                                 binary(version), binary(ts), binary(eid));
  landing.collect(rows, landed);
}

void cascade(pqxx::work& work, std::span<const InboundEvent> events,
             const apply::EffectPlan& plan) {
  PgArray users = text_array(), organizations = text_array();
  for (std::size_t index : plan.user_deletions)
    users.add(std::string_view(events[index].decoded.entity_id));
  for (std::size_t index : plan.organization_deletions)
    organizations.add(std::string_view(events[index].decoded.entity_id));
  work.exec_prepared("cascade_memberships", binary(users), binary(organizations));
}

}  // namespace worker::store
