#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

/// An in-memory Clerk instance for the tests: users, organizations and
/// memberships, rendered in the Backend API's JSON shapes. Thread-safe (the
/// fake server reads it while a test mutates it). Deleting a user or an
/// organization removes its memberships, as Clerk does.
namespace sync_test {

struct FakeUser {
  std::string id;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::string first_name;
  std::string last_name;
  std::string username;
  std::string email;
  std::string external_id;  ///< empty: null
  std::string plan;         ///< public_metadata.plan
};

struct FakeOrganization {
  std::string id;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::string name;
  std::string slug;
};

struct FakeMembership {
  std::string id;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::string organization_id;
  std::string user_id;
  std::string role;
};

std::string user_json(const FakeUser& user);
std::string organization_json(const FakeOrganization& organization);
std::string membership_json(const FakeMembership& membership, const FakeOrganization& organization,
                            const FakeUser* user);

/// A webhook envelope as Clerk sends it, for the tests that play webhooks.
std::string envelope(const std::string& type, const std::string& data_json,
                     std::int64_t timestamp_ms);

class FakeClerkData {
 public:
  /// `start_ms`: created_at of the first entity; each new entity is 1 s younger.
  explicit FakeClerkData(std::int64_t start_ms = 1700000000000);

  FakeUser add_user(const std::string& first_name = "");
  FakeOrganization add_organization();
  FakeMembership add_membership(const std::string& organization_id, const std::string& user_id,
                                const std::string& role = "org:member");
  /// Changes the entity (a new first name, name or role) and moves updated_at on.
  FakeUser update_user(const std::string& id, std::int64_t at_ms);
  FakeOrganization update_organization(const std::string& id, std::int64_t at_ms);
  FakeMembership update_membership(const std::string& id, std::int64_t at_ms);
  /// Replaces a user or an organization with `entity` as given (same id).
  void put_user(const FakeUser& user);
  void put_organization(const FakeOrganization& organization);
  /// Removes the entity; returns the memberships removed with it.
  std::vector<FakeMembership> delete_user(const std::string& id);
  std::vector<FakeMembership> delete_organization(const std::string& id);
  void delete_membership(const std::string& id);

  std::vector<FakeUser> users() const;                  ///< newest first
  std::vector<FakeOrganization> organizations() const;  ///< newest first
  std::vector<FakeMembership> memberships() const;      ///< all, newest first
  std::optional<FakeUser> user(const std::string& id) const;
  std::optional<FakeOrganization> organization(const std::string& id) const;
  std::optional<FakeMembership> membership(const std::string& id) const;
  std::string membership_json_of(const FakeMembership& membership) const;

  // Backend API bodies; nullopt: 404.
  std::string users_page(int limit, std::int64_t offset) const;
  std::string users_count() const;
  std::string organizations_page(int limit, std::int64_t offset) const;
  std::optional<std::string> memberships_page(const std::string& organization_id, int limit,
                                              std::int64_t offset) const;
  std::optional<std::string> user_body(const std::string& id) const;
  std::optional<std::string> organization_body(const std::string& id) const;

  std::int64_t clock_ms() const;

 private:
  mutable std::mutex mutex_;
  std::int64_t next_created_;
  int next_id_ = 1;
  std::map<std::string, FakeUser> users_;
  std::map<std::string, FakeOrganization> organizations_;
  std::map<std::string, FakeMembership> memberships_;
};

}  // namespace sync_test
