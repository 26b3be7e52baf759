#include "fake_clerk_data.hpp"

#include <algorithm>
#include <cstdio>

#include "common/logging/logger.hpp"

namespace sync_test {
namespace {

using common::logging::append_json_string;

std::string quoted(const std::string& text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string nullable(const std::string& text) {
  return text.empty() ? "null" : quoted(text);
}

template <typename T>
std::vector<T> newest_first(const std::map<std::string, T>& items) {
  std::vector<T> out;
  for (const auto& [id, item] : items)
    out.push_back(item);
  std::sort(out.begin(), out.end(), [](const T& a, const T& b) {
    if (a.created_at != b.created_at) return a.created_at > b.created_at;
    return a.id > b.id;
  });
  return out;
}

template <typename T>
std::vector<T> slice(const std::vector<T>& items, int limit, std::int64_t offset) {
  std::vector<T> out;
  for (std::int64_t i = offset;
       i < static_cast<std::int64_t>(items.size()) && static_cast<int>(out.size()) < limit; ++i)
    out.push_back(items[static_cast<std::size_t>(i)]);
  return out;
}

}  // namespace

std::string user_json(const FakeUser& u) {
  std::string email_id = "idn_" + u.id.substr(u.id.find('_') + 1);
  std::string created = std::to_string(u.created_at);
  std::string updated = std::to_string(u.updated_at);
  return "{\"id\":" + quoted(u.id) + ",\"object\":\"user\",\"username\":" + nullable(u.username) +
         ",\"first_name\":" + nullable(u.first_name) + ",\"last_name\":" + nullable(u.last_name) +
         ",\"image_url\":" + quoted("https://img.clerk.com/" + u.id) +
         ",\"has_image\":false,\"primary_email_address_id\":" + quoted(email_id) +
         ",\"primary_phone_number_id\":null,\"primary_web3_wallet_id\":null,"
         "\"password_enabled\":true,\"two_factor_enabled\":false,\"totp_enabled\":false,"
         "\"backup_code_enabled\":false,\"email_addresses\":[{\"id\":" +
         quoted(email_id) + ",\"object\":\"email_address\",\"email_address\":" + quoted(u.email) +
         ",\"reserved\":false,\"verification\":{\"status\":\"verified\",\"strategy\":"
         "\"email_code\",\"attempts\":1,\"expire_at\":" +
         created + "},\"linked_to\":[],\"created_at\":" + created + ",\"updated_at\":" + created +
         "}],\"phone_numbers\":[],\"web3_wallets\":[],\"passkeys\":[],\"external_accounts\":[],"
         "\"saml_accounts\":[],\"public_metadata\":{\"plan\":" +
         quoted(u.plan) + "},\"private_metadata\":{},\"unsafe_metadata\":{},\"external_id\":" +
         nullable(u.external_id) +
         ",\"last_sign_in_at\":null,\"banned\":false,\"locked\":false,"
         "\"lockout_expires_in_seconds\":null,\"verification_attempts_remaining\":100,"
         "\"created_at\":" +
         created + ",\"updated_at\":" + updated +
         ",\"delete_self_enabled\":true,\"create_organization_enabled\":true,\"last_active_at\":" +
         updated + ",\"legal_accepted_at\":null}";
}

std::string organization_json(const FakeOrganization& o) {
  return "{\"object\":\"organization\",\"id\":" + quoted(o.id) + ",\"name\":" + quoted(o.name) +
         ",\"slug\":" + quoted(o.slug) +
         ",\"image_url\":" + quoted("https://img.clerk.com/" + o.id) +
         ",\"has_image\":false,\"max_allowed_memberships\":0,\"admin_delete_enabled\":true,"
         "\"public_metadata\":{},\"private_metadata\":{},\"created_by\":\"\",\"created_at\":" +
         std::to_string(o.created_at) + ",\"updated_at\":" + std::to_string(o.updated_at) + "}";
}

std::string membership_json(const FakeMembership& m, const FakeOrganization& o,
                            const FakeUser* user) {
  std::string first = user != nullptr ? user->first_name : "";
  std::string identifier = user != nullptr ? user->email : "";
  return "{\"object\":\"organization_membership\",\"id\":" + quoted(m.id) +
         ",\"public_metadata\":{},\"private_metadata\":{},\"role\":" + quoted(m.role) +
         ",\"role_name\":" + quoted(m.role == "org:admin" ? "Admin" : "Member") +
         ",\"permissions\":[\"org:sys_profile:read\"],\"created_at\":" +
         std::to_string(m.created_at) + ",\"updated_at\":" + std::to_string(m.updated_at) +
         ",\"organization\":" + organization_json(o) +
         ",\"public_user_data\":{\"user_id\":" + quoted(m.user_id) +
         ",\"first_name\":" + nullable(first) +
         ",\"last_name\":null,\"image_url\":\"\",\"has_image\":false,\"identifier\":" +
         quoted(identifier) + "}}";
}

std::string envelope(const std::string& type, const std::string& data_json,
                     std::int64_t timestamp_ms) {
  return "{\"data\":" + data_json +
         ",\"event_attributes\":{\"http_request\":{\"client_ip\":\"\",\"user_agent\":\"\"}},"
         "\"instance_id\":\"ins_test\",\"object\":\"event\",\"timestamp\":" +
         std::to_string(timestamp_ms) + ",\"type\":" + quoted(type) + "}";
}

FakeClerkData::FakeClerkData(std::int64_t start_ms) : next_created_(start_ms) {}

std::int64_t FakeClerkData::clock_ms() const {
  std::lock_guard lock(mutex_);
  return next_created_;
}

FakeUser FakeClerkData::add_user(const std::string& first_name) {
  std::lock_guard lock(mutex_);
  FakeUser u;
  char id[32];
  std::snprintf(id, sizeof(id), "user_%06d", next_id_++);
  u.id = id;
  u.created_at = u.updated_at = (next_created_ += 1000);
  u.first_name = first_name.empty() ? "First" + u.id.substr(5) : first_name;
  u.last_name = "Last" + u.id.substr(5);
  u.username = "name" + u.id.substr(5);
  u.email = u.id + "@example.com";
  u.external_id = next_id_ % 3 == 0 ? "ext-" + u.id : "";
  u.plan = "free";
  users_[u.id] = u;
  return u;
}

FakeOrganization FakeClerkData::add_organization() {
  std::lock_guard lock(mutex_);
  FakeOrganization o;
  char id[32];
  std::snprintf(id, sizeof(id), "org_%06d", next_id_++);
  o.id = id;
  o.created_at = o.updated_at = (next_created_ += 1000);
  o.name = "Org " + o.id.substr(4);
  o.slug = "org-" + o.id.substr(4);
  organizations_[o.id] = o;
  return o;
}

FakeMembership FakeClerkData::add_membership(const std::string& organization_id,
                                             const std::string& user_id, const std::string& role) {
  std::lock_guard lock(mutex_);
  FakeMembership m;
  char id[32];
  std::snprintf(id, sizeof(id), "orgmem_%06d", next_id_++);
  m.id = id;
  m.created_at = m.updated_at = (next_created_ += 1000);
  m.organization_id = organization_id;
  m.user_id = user_id;
  m.role = role;
  memberships_[m.id] = m;
  return m;
}

FakeUser FakeClerkData::update_user(const std::string& id, std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  FakeUser& u = users_.at(id);
  u.updated_at = std::max(at_ms, u.updated_at + 1);
  u.first_name = "Renamed" + std::to_string(u.updated_at % 100000);
  u.plan = "pro";
  return u;
}

FakeOrganization FakeClerkData::update_organization(const std::string& id, std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  FakeOrganization& o = organizations_.at(id);
  o.updated_at = std::max(at_ms, o.updated_at + 1);
  o.name = "Renamed " + std::to_string(o.updated_at % 100000);
  return o;
}

FakeMembership FakeClerkData::update_membership(const std::string& id, std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  FakeMembership& m = memberships_.at(id);
  m.updated_at = std::max(at_ms, m.updated_at + 1);
  m.role = m.role == "org:admin" ? "org:member" : "org:admin";
  return m;
}

void FakeClerkData::put_user(const FakeUser& user) {
  std::lock_guard lock(mutex_);
  users_[user.id] = user;
}

void FakeClerkData::put_organization(const FakeOrganization& organization) {
  std::lock_guard lock(mutex_);
  organizations_[organization.id] = organization;
}

std::vector<FakeMembership> FakeClerkData::delete_user(const std::string& id) {
  std::lock_guard lock(mutex_);
  users_.erase(id);
  std::vector<FakeMembership> removed;
  for (auto it = memberships_.begin(); it != memberships_.end();) {
    if (it->second.user_id == id) {
      removed.push_back(it->second);
      it = memberships_.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

std::vector<FakeMembership> FakeClerkData::delete_organization(const std::string& id) {
  std::lock_guard lock(mutex_);
  organizations_.erase(id);
  std::vector<FakeMembership> removed;
  for (auto it = memberships_.begin(); it != memberships_.end();) {
    if (it->second.organization_id == id) {
      removed.push_back(it->second);
      it = memberships_.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

void FakeClerkData::delete_membership(const std::string& id) {
  std::lock_guard lock(mutex_);
  memberships_.erase(id);
}

std::vector<FakeUser> FakeClerkData::users() const {
  std::lock_guard lock(mutex_);
  return newest_first(users_);
}

std::vector<FakeOrganization> FakeClerkData::organizations() const {
  std::lock_guard lock(mutex_);
  return newest_first(organizations_);
}

std::vector<FakeMembership> FakeClerkData::memberships() const {
  std::lock_guard lock(mutex_);
  return newest_first(memberships_);
}

std::optional<FakeUser> FakeClerkData::user(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = users_.find(id);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::optional<FakeOrganization> FakeClerkData::organization(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = organizations_.find(id);
  if (it == organizations_.end()) return std::nullopt;
  return it->second;
}

std::optional<FakeMembership> FakeClerkData::membership(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = memberships_.find(id);
  if (it == memberships_.end()) return std::nullopt;
  return it->second;
}

std::string FakeClerkData::membership_json_of(const FakeMembership& m) const {
  std::lock_guard lock(mutex_);
  FakeOrganization o;
  if (auto it = organizations_.find(m.organization_id); it != organizations_.end()) {
    o = it->second;
  } else {
    o.id = m.organization_id;
  }
  auto u = users_.find(m.user_id);
  return membership_json(m, o, u == users_.end() ? nullptr : &u->second);
}

std::string FakeClerkData::users_page(int limit, std::int64_t offset) const {
  std::lock_guard lock(mutex_);
  std::string body = "[";
  for (const FakeUser& u : slice(newest_first(users_), limit, offset)) {
    if (body.size() > 1) body += ',';
    body += user_json(u);
  }
  return body + "]";
}

std::string FakeClerkData::users_count() const {
  std::lock_guard lock(mutex_);
  return "{\"object\":\"total_count\",\"total_count\":" + std::to_string(users_.size()) + "}";
}

std::string FakeClerkData::organizations_page(int limit, std::int64_t offset) const {
  std::lock_guard lock(mutex_);
  std::string body = "{\"data\":[";
  bool first = true;
  for (const FakeOrganization& o : slice(newest_first(organizations_), limit, offset)) {
    if (!first) body += ',';
    first = false;
    body += organization_json(o);
  }
  return body + "],\"total_count\":" + std::to_string(organizations_.size()) + "}";
}

std::optional<std::string> FakeClerkData::memberships_page(const std::string& organization_id,
                                                           int limit, std::int64_t offset) const {
  std::lock_guard lock(mutex_);
  auto org = organizations_.find(organization_id);
  if (org == organizations_.end()) return std::nullopt;
  std::map<std::string, FakeMembership> of_org;
  for (const auto& [id, m] : memberships_) {
    if (m.organization_id == organization_id) of_org[id] = m;
  }
  std::string body = "{\"data\":[";
  bool first = true;
  for (const FakeMembership& m : slice(newest_first(of_org), limit, offset)) {
    if (!first) body += ',';
    first = false;
    auto u = users_.find(m.user_id);
    body += membership_json(m, org->second, u == users_.end() ? nullptr : &u->second);
  }
  return body + "],\"total_count\":" + std::to_string(of_org.size()) + "}";
}

std::optional<std::string> FakeClerkData::user_body(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = users_.find(id);
  if (it == users_.end()) return std::nullopt;
  return user_json(it->second);
}

std::optional<std::string> FakeClerkData::organization_body(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = organizations_.find(id);
  if (it == organizations_.end()) return std::nullopt;
  return organization_json(it->second);
}

}  // namespace sync_test
