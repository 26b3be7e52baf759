#pragma once
#include <cstdint>
#include <string>

#include "worker/sync/clerk_api.hpp"
#include "worker/sync/clock.hpp"
#include "worker/sync/event_publisher.hpp"
#include "worker/sync/sync_store.hpp"

namespace worker::sync {

struct EntitySyncRequest {
  EntityKind kind = EntityKind::kUser;  ///< kUser or kOrganization
  std::string id;
  bool dry_run = false;  ///< fetch and report; publish nothing
  int page_size = 500;
  int overlap = 5;
};

struct EntitySyncResult {
  std::int64_t run_id = 0;
  RunStatus status = RunStatus::kRunning;
  bool found = false;    ///< the source has the entity
  bool deleted = false;  ///< gone at the source and alive in the mirror: a delete published
  RunCounts counts;      ///< the organization's memberships under kMembership
  std::int64_t memberships_deleted = 0;
};

/// `clerk-mirror sync user|organization <id>`: fetches one entity now and
/// publishes it with source `sync`; an organization comes with all its
/// memberships, and memberships the mirror still has but the source no longer
/// lists are deleted. An entity gone at the source but alive in the mirror gets
/// a delete. Recorded in the run log. Not thread-safe.
class EntitySyncer {
 public:
  EntitySyncer(ClerkApi& api, EventPublisher& publisher, SyncStore& store, Clock& clock);
  /// Throws ApiError, PublishError or database errors after recording the run
  /// as failed; after a stop request, rethrows with the run recorded as interrupted.
  EntitySyncResult run(const EntitySyncRequest& request);

 private:
  void sync_memberships(const EntitySyncRequest& request, EntitySyncResult& result);

  ClerkApi& api_;
  EventPublisher& publisher_;
  SyncStore& store_;
  Clock& clock_;
};

}  // namespace worker::sync
