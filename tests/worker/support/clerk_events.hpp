#pragma once
#include <cstdint>
#include <optional>
#include <string>

/// Clerk webhook envelopes shaped like the documented examples, for tests and the
/// benchmark generator. Values are plain ASCII, so no JSON escaping is needed.
namespace worker_test {

inline std::string json_string_or_null(const std::optional<std::string>& value) {
  return value ? "\"" + *value + "\"" : "null";
}

inline std::string envelope(const std::string& type, const std::string& data,
                            std::optional<std::int64_t> timestamp_ms) {
  std::string out = "{\"data\":" + data +
                    ",\"event_attributes\":{\"http_request\":{\"client_ip\":\"192.0.2.1\","
                    "\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) clerk-mirror-test\"}},"
                    "\"instance_id\":\"ins_2abcdefghijklmnopqrstuvwx\",\"object\":\"event\",";
  if (timestamp_ms) out += "\"timestamp\":" + std::to_string(*timestamp_ms) + ",";
  return out + "\"type\":\"" + type + "\"}";
}

inline std::string user_data(const std::string& id, std::int64_t updated_at,
                             const std::optional<std::string>& first_name,
                             const std::string& email = "someone@example.org") {
  std::string created = std::to_string(updated_at - 1000);
  std::string updated = std::to_string(updated_at);
  return "{\"backup_code_enabled\":false,\"banned\":false,\"create_organization_enabled\":true,"
         "\"created_at\":" +
         created +
         ",\"delete_self_enabled\":true,"
         "\"email_addresses\":[{\"email_address\":\"" +
         email + "\",\"id\":\"idn_" + id +
         "\",\"linked_to\":[],\"object\":\"email_address\",\"reserved\":false,"
         "\"verification\":{\"attempts\":null,\"expire_at\":null,\"status\":\"verified\","
         "\"strategy\":\"admin\"}}],\"external_accounts\":[],\"external_id\":null,"
         "\"first_name\":" +
         json_string_or_null(first_name) +
         ",\"has_image\":true,"
         "\"id\":\"" +
         id +
         "\",\"image_url\":\"https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9\","
         "\"last_active_at\":" +
         updated + ",\"last_name\":\"Example\",\"last_sign_in_at\":" + created +
         ",\"locked\":false,\"lockout_expires_in_seconds\":null,\"object\":\"user\","
         "\"passkeys\":[],\"password_enabled\":true,\"phone_numbers\":[],"
         "\"primary_email_address_id\":\"idn_" +
         id +
         "\",\"primary_phone_number_id\":null,"
         "\"primary_web3_wallet_id\":null,\"private_metadata\":{\"tier\":\"gold\"},"
         "\"profile_image_url\":\"https://www.gravatar.com/avatar?d=mp\","
         "\"public_metadata\":{\"role\":\"member\"},\"saml_accounts\":[],\"totp_enabled\":false,"
         "\"two_factor_enabled\":false,\"unsafe_metadata\":{},\"updated_at\":" +
         updated +
         ",\"username\":null,\"verification_attempts_remaining\":null,\"web3_wallets\":[]}";
}

inline std::string organization_data(const std::string& id, std::int64_t updated_at,
                                     const std::optional<std::string>& name) {
  return "{\"admin_delete_enabled\":true,\"created_at\":" + std::to_string(updated_at - 1000) +
         ",\"created_by\":\"user_creator\",\"has_image\":false,\"id\":\"" + id +
         "\",\"image_url\":\"https://img.clerk.com/xxxxxx\",\"logo_url\":null,"
         "\"max_allowed_memberships\":5,\"members_count\":3,\"name\":" +
         json_string_or_null(name) +
         ",\"object\":\"organization\",\"private_metadata\":{},"
         "\"public_metadata\":{\"plan\":\"pro\"},\"slug\":\"slug-" +
         id + "\",\"updated_at\":" + std::to_string(updated_at) + "}";
}

inline std::string membership_data(const std::string& id, const std::string& org_id,
                                   const std::string& user_id, std::int64_t updated_at,
                                   const std::string& role) {
  std::string created = std::to_string(updated_at - 1000);
  return "{\"created_at\":" + created + ",\"id\":\"" + id +
         "\",\"object\":\"organization_membership\",\"organization\":{\"created_at\":" + created +
         ",\"created_by\":\"user_creator\",\"id\":\"" + org_id +
         "\",\"image_url\":\"https://img.clerk.com/xxxxxx\",\"logo_url\":null,"
         "\"max_allowed_memberships\":5,\"name\":\"Acme Inc\",\"object\":\"organization\","
         "\"private_metadata\":{},\"public_metadata\":{},\"slug\":\"acme-inc\",\"updated_at\":" +
         created +
         "},\"permissions\":[\"org:sys_memberships:read\"],\"public_metadata\":{},"
         "\"public_user_data\":{\"first_name\":null,\"identifier\":\"someone@example.org\","
         "\"image_url\":\"https://img.clerk.com/xxxxxx\",\"last_name\":null,"
         "\"profile_image_url\":\"https://www.gravatar.com/avatar?d=mp\",\"user_id\":\"" +
         user_id + "\"},\"role\":\"" + role +
         "\",\"role_name\":\"Role\",\"updated_at\":" + std::to_string(updated_at) + "}";
}

inline std::string deleted_data(const std::string& id, const std::string& object) {
  return "{\"deleted\":true,\"id\":\"" + id + "\",\"object\":\"" + object + "\"}";
}

}  // namespace worker_test
