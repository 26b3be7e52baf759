#include "common/events/entity_decoder.hpp"

#include <simdjson.h>

#include <cmath>

#include "common/events/event_contract.hpp"

namespace common::events {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::size_t kMaxIdBytes = 255;

/// Collects the first problem found while reading fields; later reads are no-ops.
struct Reader {
  std::string error;
  bool ok() const { return error.empty(); }
  void fail(std::string message) {
    if (error.empty()) error = std::move(message);
  }
};

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::optional<element> member(const object& obj, std::string_view key) {
  element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

std::optional<std::string> optional_string(Reader& r, const object& obj, std::string_view key) {
  auto value = member(obj, key);
  if (!value) return std::nullopt;
  std::string_view text;
  if (value->get_string().get(text) != simdjson::SUCCESS) {
    r.fail(std::string(key) + " must be a string or null");
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<bool> optional_bool(Reader& r, const object& obj, std::string_view key) {
  auto value = member(obj, key);
  if (!value) return std::nullopt;
  bool flag = false;
  if (value->get_bool().get(flag) != simdjson::SUCCESS) {
    r.fail(std::string(key) + " must be a boolean or null");
    return std::nullopt;
  }
  return flag;
}

std::optional<std::int64_t> optional_integer(Reader& r, const object& obj, std::string_view key) {
  auto value = member(obj, key);
  if (!value) return std::nullopt;
  std::int64_t signed_value = 0;
  if (value->get_int64().get(signed_value) == simdjson::SUCCESS) return signed_value;
  double real = 0;
  if (value->get_double().get(real) == simdjson::SUCCESS && std::isfinite(real) &&
      std::fabs(real) < 9.0e15) {
    return static_cast<std::int64_t>(real);
  }
  r.fail(std::string(key) + " must be an integer or null");
  return std::nullopt;
}

std::optional<std::int64_t> optional_epoch(
    Reader& r, const object& obj, std::string_view key,
    std::optional<std::int64_t> (*to_ms)(std::int64_t) = epoch_ms) {
  auto value = optional_integer(r, obj, key);
  if (!value) return std::nullopt;
  if (*value < 0) {
    r.fail(std::string(key) + " must not be negative");
    return std::nullopt;
  }
  return to_ms(*value);
}

std::string required_id(Reader& r, const object& obj, std::string_view key, std::string_view what) {
  auto value = optional_string(r, obj, key);
  if (!value || !valid_id(*value)) {
    r.fail(std::string(what) + " must be a non-empty string of at most 255 printable bytes");
    return {};
  }
  return std::move(*value);
}

/// The value of `value_key` in the entry of array `array_key` whose id is `id`.
std::optional<std::string> primary_entry(Reader& r, const object& data, std::string_view array_key,
                                         const std::optional<std::string>& id,
                                         std::string_view value_key) {
  if (!id) return std::nullopt;
  auto entries = member(data, array_key);
  if (!entries) return std::nullopt;
  simdjson::dom::array array;
  if (entries->get_array().get(array) != simdjson::SUCCESS) {
    r.fail(std::string(array_key) + " must be an array or null");
    return std::nullopt;
  }
  for (element entry : array) {
    object entry_object;
    if (entry.get_object().get(entry_object) != simdjson::SUCCESS) continue;
    Reader ignore;
    if (optional_string(ignore, entry_object, "id") == id) {
      return optional_string(r, entry_object, value_key);
    }
  }
  return std::nullopt;
}

UserFields read_user(Reader& r, const object& data) {
  UserFields f;
  f.created_at_ms = optional_epoch(r, data, "created_at");
  f.updated_at_ms = optional_epoch(r, data, "updated_at");
  f.last_sign_in_at_ms = optional_epoch(r, data, "last_sign_in_at");
  f.first_name = optional_string(r, data, "first_name");
  f.last_name = optional_string(r, data, "last_name");
  f.username = optional_string(r, data, "username");
  f.image_url = optional_string(r, data, "image_url");
  f.external_id = optional_string(r, data, "external_id");
  f.primary_email_address_id = optional_string(r, data, "primary_email_address_id");
  f.primary_phone_number_id = optional_string(r, data, "primary_phone_number_id");
  f.primary_email_address =
      primary_entry(r, data, "email_addresses", f.primary_email_address_id, "email_address");
  f.primary_phone_number =
      primary_entry(r, data, "phone_numbers", f.primary_phone_number_id, "phone_number");
  f.banned = optional_bool(r, data, "banned");
  f.locked = optional_bool(r, data, "locked");
  return f;
}

OrganizationFields read_organization(Reader& r, const object& data) {
  OrganizationFields f;
  f.created_at_ms = optional_epoch(r, data, "created_at");
  f.updated_at_ms = optional_epoch(r, data, "updated_at");
  f.name = optional_string(r, data, "name");
  f.slug = optional_string(r, data, "slug");
  f.image_url = optional_string(r, data, "image_url");
  f.created_by = optional_string(r, data, "created_by");
  f.members_count = optional_integer(r, data, "members_count");
  f.max_allowed_memberships = optional_integer(r, data, "max_allowed_memberships");
  f.admin_delete_enabled = optional_bool(r, data, "admin_delete_enabled");
  return f;
}

MembershipFields read_membership(Reader& r, const object& data) {
  MembershipFields f;
  f.created_at_ms = optional_epoch(r, data, "created_at");
  f.updated_at_ms = optional_epoch(r, data, "updated_at");
  f.role = optional_string(r, data, "role");
  f.role_name = optional_string(r, data, "role_name");
  object organization;
  auto org = member(data, "organization");
  if (!org || org->get_object().get(organization) != simdjson::SUCCESS) {
    r.fail("organization must be an object");
  } else {
    f.organization_id = required_id(r, organization, "id", "organization.id");
  }
  object user;
  auto user_data = member(data, "public_user_data");
  if (!user_data || user_data->get_object().get(user) != simdjson::SUCCESS) {
    r.fail("public_user_data must be an object");
  } else {
    f.user_id = required_id(r, user, "user_id", "public_user_data.user_id");
  }
  return f;
}

DecodeResult malformed(std::string error, std::string type = {}) {
  DecodeResult result;
  result.status = DecodeStatus::kMalformed;
  result.error = std::move(error);
  result.type = std::move(type);
  return result;
}

}  // namespace

std::optional<EventRoute> route_event_type(std::string_view type) {
  struct Entry {
    std::string_view type;
    EventRoute route;
  };
  static constexpr Entry kRoutes[] = {
      {"user.created", {EntityKind::kUser, EventAction::kUpsert}},
      {"user.updated", {EntityKind::kUser, EventAction::kUpsert}},
      {"user.deleted", {EntityKind::kUser, EventAction::kDelete}},
      {"organization.created", {EntityKind::kOrganization, EventAction::kUpsert}},
      {"organization.updated", {EntityKind::kOrganization, EventAction::kUpsert}},
      {"organization.deleted", {EntityKind::kOrganization, EventAction::kDelete}},
      {"organizationMembership.created", {EntityKind::kMembership, EventAction::kUpsert}},
      {"organizationMembership.updated", {EntityKind::kMembership, EventAction::kUpsert}},
      {"organizationMembership.deleted", {EntityKind::kMembership, EventAction::kDelete}},
  };
  for (const auto& entry : kRoutes) {
    if (entry.type == type) return entry.route;
  }
  return std::nullopt;
}

std::string_view to_string(EntityKind kind) {
  switch (kind) {
    case EntityKind::kUser:
      return "user";
    case EntityKind::kOrganization:
      return "organization";
    case EntityKind::kMembership:
      return "organization_membership";
  }
  return "user";
}

std::optional<std::int64_t> DecodedEvent::updated_at_ms() const {
  if (const auto* u = std::get_if<UserFields>(&fields)) return u->updated_at_ms;
  if (const auto* o = std::get_if<OrganizationFields>(&fields)) return o->updated_at_ms;
  if (const auto* m = std::get_if<MembershipFields>(&fields)) return m->updated_at_ms;
  return std::nullopt;
}

struct EntityDecoder::Impl {
  simdjson::dom::parser parser;
};

EntityDecoder::EntityDecoder() : impl_(std::make_unique<Impl>()) {}
EntityDecoder::~EntityDecoder() = default;

DecodeResult EntityDecoder::decode(std::string_view json) {
  element doc;
  if (auto err = impl_->parser.parse(json.data(), json.size()).get(doc); err) {
    return malformed(std::string("not JSON: ") + simdjson::error_message(err));
  }
  object envelope;
  if (doc.get_object().get(envelope) != simdjson::SUCCESS) {
    return malformed("the envelope is not a JSON object");
  }
  std::string_view type;
  if (envelope.at_key("type").get_string().get(type) != simdjson::SUCCESS) {
    return malformed("the envelope has no string `type`");
  }
  object data;
  element data_element;
  if (envelope.at_key("data").get(data_element) != simdjson::SUCCESS ||
      data_element.get_object().get(data) != simdjson::SUCCESS) {
    return malformed("the envelope has no object `data`", std::string(type));
  }
  Reader r;
  std::optional<std::int64_t> timestamp = optional_epoch(r, envelope, "timestamp", event_time_ms);
  if (!r.ok()) return malformed("envelope " + r.error, std::string(type));

  auto route = route_event_type(type);
  if (!route) {
    DecodeResult ignored;
    ignored.status = DecodeStatus::kIgnored;
    ignored.type = std::string(type);
    return ignored;
  }
  DecodeResult result;
  result.type = std::string(type);
  DecodedEvent& event = result.event;
  event.type = result.type;
  event.route = *route;
  event.timestamp_ms = timestamp;
  event.entity_id = required_id(r, data, "id", "id");
  bool keeps_fields =
      route->action == EventAction::kUpsert || route->kind == EntityKind::kMembership;
  if (keeps_fields) {
    switch (route->kind) {
      case EntityKind::kUser:
        event.fields = read_user(r, data);
        break;
      case EntityKind::kOrganization:
        event.fields = read_organization(r, data);
        break;
      case EntityKind::kMembership:
        event.fields = read_membership(r, data);
        break;
    }
  }
  if (!r.ok()) return malformed("data." + r.error, result.type);
  if (keeps_fields) event.data_json = simdjson::minify(data_element);
  result.status = DecodeStatus::kDecoded;
  return result;
}

}  // namespace common::events
