#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "worker/sync/api_entity.hpp"
#include "worker/sync/clerk_response_decoder.hpp"

namespace worker::sync {

/// A Clerk Backend API request that did not succeed, after retries. The
/// message names the endpoint (path and query, never the key) and the status.
class ApiError : public std::runtime_error {
 public:
  ApiError(const std::string& endpoint, int status, const std::string& detail)
      : std::runtime_error(endpoint + ": " + detail), endpoint_(endpoint), status_(status) {}
  const std::string& endpoint() const { return endpoint_; }
  int status() const { return status_; }  ///< 0 when no HTTP status arrived

 private:
  std::string endpoint_;
  int status_;
};

/// Counters of one client's traffic, for the run record and the final report.
struct ApiStats {
  std::int64_t requests = 0;   ///< attempts sent
  std::int64_t retries = 0;    ///< attempts that were repeats
  std::int64_t throttled = 0;  ///< 429 answers
};

/// The Clerk Backend API as the sync code uses it: list pages newest first,
/// counts, and single entities. Throws ApiError on failure.
class ClerkApi {
 public:
  virtual ~ClerkApi() = default;
  /// One page of users, organizations, or (with `organization_id`) an
  /// organization's memberships, ordered by creation time, newest first.
  virtual ApiPage list(EntityKind kind, const std::string& organization_id, int limit,
                       std::int64_t offset) = 0;
  /// How many entities the list has now.
  virtual std::int64_t count(EntityKind kind, const std::string& organization_id) = 0;
  /// A user or an organization by id; nullopt when the API says 404.
  virtual std::optional<ApiEntity> get(EntityKind kind, const std::string& id) = 0;
  virtual ApiStats stats() const = 0;

  /// One page of an organization's memberships; nullopt when the organization
  /// is gone (the list answers 404).
  std::optional<ApiPage> list_memberships(const std::string& organization_id, int limit,
                                          std::int64_t offset) {
    try {
      return list(EntityKind::kMembership, organization_id, limit, offset);
    } catch (const ApiError& e) {
      if (e.status() != 404) throw;
      return std::nullopt;
    }
  }
  /// How many memberships an organization has now; 0 when it is gone (404).
  std::int64_t count_memberships(const std::string& organization_id) {
    try {
      return count(EntityKind::kMembership, organization_id);
    } catch (const ApiError& e) {
      if (e.status() != 404) throw;
      return 0;
    }
  }
};

}  // namespace worker::sync
