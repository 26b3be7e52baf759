#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

/// Decoding of Clerk event envelopes into plain structs for the worker. The
/// only consumer-side place that parses JSON (simdjson stays in this library).
namespace common::events {

enum class EntityKind { kUser, kOrganization, kMembership };
enum class EventAction { kUpsert, kDelete };

/// The entity and action an event `type` names.
struct EventRoute {
  EntityKind kind;
  EventAction action;
  bool operator==(const EventRoute&) const = default;
};

/// Routes on the envelope `type` (never on `data.object`): user.created|updated|deleted,
/// organization.created|updated|deleted, organizationMembership.created|updated|deleted.
/// nullopt for every other type (session.*, email.*, future ones): the mirror ignores them.
std::optional<EventRoute> route_event_type(std::string_view type);

std::string_view to_string(EntityKind kind);  ///< user | organization | organization_membership

/// Scalar fields of a user (`data` of user.created / user.updated). jsonb parts
/// (email_addresses, metadata, ...) are taken from the payload by the store.
struct UserFields {
  std::optional<std::int64_t> created_at_ms;
  std::optional<std::int64_t> updated_at_ms;
  std::optional<std::int64_t> last_sign_in_at_ms;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> username;
  std::optional<std::string> image_url;
  std::optional<std::string> external_id;
  std::optional<std::string> primary_email_address_id;
  std::optional<std::string> primary_email_address;  ///< the primary entry's email_address
  std::optional<std::string> primary_phone_number_id;
  std::optional<std::string> primary_phone_number;  ///< the primary entry's phone_number
  std::optional<bool> banned;
  std::optional<bool> locked;
};

struct OrganizationFields {
  std::optional<std::int64_t> created_at_ms;
  std::optional<std::int64_t> updated_at_ms;
  std::optional<std::string> name;
  std::optional<std::string> slug;
  std::optional<std::string> image_url;
  std::optional<std::string> created_by;
  std::optional<std::int64_t> members_count;
  std::optional<std::int64_t> max_allowed_memberships;
  std::optional<bool> admin_delete_enabled;
};

struct MembershipFields {
  std::optional<std::int64_t> created_at_ms;
  std::optional<std::int64_t> updated_at_ms;
  std::string organization_id;  ///< data.organization.id (required)
  std::string user_id;          ///< data.public_user_data.user_id (required)
  std::optional<std::string> role;
  std::optional<std::string> role_name;
};

/// A decoded event the mirror keeps. `fields` is empty (monostate) for user and
/// organization deletions, which carry only the id; membership deletions carry
/// the whole membership as it was.
struct DecodedEvent {
  std::string type;
  EventRoute route{EntityKind::kUser, EventAction::kUpsert};
  std::optional<std::int64_t> timestamp_ms;  ///< envelope `timestamp`, normalised to ms
  std::string entity_id;                     ///< data.id
  std::variant<std::monostate, UserFields, OrganizationFields, MembershipFields> fields;
  std::string data_json;  ///< the `data` object, minified; empty for user/org deletions

  /// The entity's updated_at in ms, when the event carries fields that have one.
  std::optional<std::int64_t> updated_at_ms() const;
};

enum class DecodeStatus {
  kDecoded,    ///< a mirrored type with a usable payload
  kIgnored,    ///< a valid envelope of a type the mirror does not keep
  kMalformed,  ///< not JSON, not an envelope, or a mirrored type with an unusable payload
};

/// Expected outcome of decoding one record value.
struct DecodeResult {
  DecodeStatus status = DecodeStatus::kMalformed;
  std::string type;    ///< envelope type when known (also set for kIgnored)
  std::string error;   ///< why, for kMalformed
  DecodedEvent event;  ///< valid for kDecoded
};

/// Decodes Clerk envelopes (`{"data":{...},"object":"event","type":...,"timestamp":...}`).
/// Unknown keys are ignored (they stay in data_json). Ids must be non-empty, at most
/// 255 bytes, without control characters; known scalar fields must have their JSON
/// type (or null). Pure apart from its reusable parse buffers: not thread-safe, one
/// per thread. Never throws on input; throws std::bad_alloc only.
class EntityDecoder {
 public:
  EntityDecoder();
  ~EntityDecoder();
  EntityDecoder(const EntityDecoder&) = delete;
  EntityDecoder& operator=(const EntityDecoder&) = delete;

  DecodeResult decode(std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace common::events
