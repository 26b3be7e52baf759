#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fake_clerk_data.hpp"

/// Plays Clerk: every change made through it to a FakeClerkData is also
/// recorded as the webhook Clerk would send. And a model of what the worker
/// makes of a set of webhooks (version-guarded upserts, soft deletes,
/// memberships ended with their user or organization), to predict drift.
namespace sync_test {

struct Webhook {
  std::string type;
  std::string key;  ///< per the event contract
  std::string body;
  std::string id;  ///< svix-id
  std::int64_t timestamp = 0;
  bool cascade = false;  ///< a membership delete sent because its user or organization went
  std::string entity_id;
  std::int64_t version = 0;     ///< the entity's updated_at (upserts)
  std::string user_id;          ///< memberships
  std::string organization_id;  ///< memberships
};

class WebhookHistory {
 public:
  explicit WebhookHistory(FakeClerkData& data) : data_(data) {}

  FakeUser create_user() {
    FakeUser u = data_.add_user();
    record("user.created", u.id, user_json(u), u.updated_at);
    last().entity_id = u.id;
    last().version = u.updated_at;
    return u;
  }
  FakeUser update_user(const std::string& id) {
    FakeUser u = data_.update_user(id, tick());
    record("user.updated", u.id, user_json(u), u.updated_at);
    last().entity_id = u.id;
    last().version = u.updated_at;
    return u;
  }
  void delete_user(const std::string& id) {
    auto removed = data_.delete_user(id);
    std::int64_t at = tick();
    record("user.deleted", id, R"({"deleted":true,"id":")" + id + R"(","object":"user"})", at);
    last().entity_id = id;
    for (const auto& m : removed)
      membership_deleted(m, true);
  }
  FakeOrganization create_organization() {
    FakeOrganization o = data_.add_organization();
    record("organization.created", o.id, organization_json(o), o.updated_at);
    last().entity_id = o.id;
    last().version = o.updated_at;
    return o;
  }
  void update_organization(const std::string& id) {
    FakeOrganization o = data_.update_organization(id, tick());
    record("organization.updated", o.id, organization_json(o), o.updated_at);
    last().entity_id = o.id;
    last().version = o.updated_at;
  }
  void delete_organization(const std::string& id) {
    auto removed = data_.delete_organization(id);
    std::int64_t at = tick();
    record("organization.deleted", id,
           R"({"deleted":true,"id":")" + id + R"(","object":"organization","slug":"x"})", at);
    last().entity_id = id;
    for (const auto& m : removed)
      membership_deleted(m, true);
  }
  FakeMembership create_membership(const std::string& organization_id, const std::string& user_id) {
    FakeMembership m = data_.add_membership(organization_id, user_id);
    record("organizationMembership.created", organization_id, data_.membership_json_of(m),
           m.updated_at);
    describe(m);
    return m;
  }
  void update_membership(const std::string& id) {
    FakeMembership m = data_.update_membership(id, tick());
    record("organizationMembership.updated", m.organization_id, data_.membership_json_of(m),
           m.updated_at);
    describe(m);
  }
  void delete_membership(const std::string& id) {
    auto m = data_.membership(id);
    data_.delete_membership(id);
    membership_deleted(*m, false);
  }

  const std::vector<Webhook>& events() const { return events_; }

 private:
  std::int64_t tick() {
    now_ = std::max(now_, data_.clock_ms()) + 7;
    return now_;
  }
  void membership_deleted(const FakeMembership& m, bool cascade) {
    std::int64_t at = tick();
    record("organizationMembership.deleted", m.organization_id, data_.membership_json_of(m), at,
           cascade);
    describe(m);
  }
  void describe(const FakeMembership& m) {
    last().entity_id = m.id;
    last().version = m.updated_at;
    last().user_id = m.user_id;
    last().organization_id = m.organization_id;
  }
  Webhook& last() { return events_.back(); }
  void record(std::string type, std::string key, std::string data, std::int64_t timestamp,
              bool cascade = false) {
    now_ = std::max(now_, timestamp);
    std::string id = "msg_" + std::to_string(events_.size() + 1);
    Webhook w;
    w.type = type;
    w.key = std::move(key);
    w.body = envelope(type, data, timestamp);
    w.id = std::move(id);
    w.timestamp = timestamp;
    w.cascade = cascade;
    events_.push_back(std::move(w));
  }

  FakeClerkData& data_;
  std::int64_t now_ = 0;
  std::vector<Webhook> events_;
};

/// What the worker's tables hold after a set of webhooks, as far as drift goes.
class MirrorModel {
 public:
  struct Row {
    bool has_fields = false;
    std::int64_t version = 0;             ///< updated_at of the newest upsert
    std::optional<std::int64_t> deleted;  ///< timestamp of the newest delete
    std::string user_id;
    std::string organization_id;
    bool alive_alone() const { return has_fields && (!deleted || version > *deleted); }
  };
  /// `kinds` keyed "user", "organization", "organizationMembership".
  std::map<std::string, std::map<std::string, Row>> rows;

  /// Alive after every delivered webhook: its own newest write is an upsert, and a
  /// membership's user and organization were not deleted after its version (the
  /// worker ends a membership whenever its parent's delete lands, before or after it).
  bool alive(const std::string& family, const std::string& id) {
    auto& own = rows[family];
    auto it = own.find(id);
    if (it == own.end() || !it->second.alive_alone()) return false;
    if (family != "organizationMembership") return true;
    for (const auto& [parent, parent_id] :
         {std::pair<std::string, std::string>{"user", it->second.user_id},
          {"organization", it->second.organization_id}}) {
      auto p = rows[parent].find(parent_id);
      if (p != rows[parent].end() && p->second.deleted && *p->second.deleted > it->second.version)
        return false;
    }
    return true;
  }

  void apply(const Webhook& w) {
    const std::string& id = w.entity_id;
    std::string family = w.type.substr(0, w.type.find('.'));
    std::string action = w.type.substr(w.type.find('.') + 1);
    Row& row = rows[family][id];
    if (!w.user_id.empty()) row.user_id = w.user_id;
    if (!w.organization_id.empty()) row.organization_id = w.organization_id;
    if (action == "deleted") {
      row.deleted = std::max(row.deleted.value_or(0), w.timestamp);
      return;
    }
    row.has_fields = true;
    row.version = std::max(row.version, w.version);
  }
};

}  // namespace sync_test
