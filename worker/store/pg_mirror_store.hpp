#pragma once
#include <memory>
#include <string>

#include "worker/store/mirror_store.hpp"

namespace common::logging {
class Logger;
}

namespace worker::store {

struct PgConnection;  // a libpqxx connection, defined where libpqxx is included

/// MirrorStore on PostgreSQL through libpqxx (the one place the worker includes
/// it). One connection, opened lazily and replaced after a connection failure;
/// statements prepared once per connection. Writes are set-based: each column of
/// a batch travels as one array parameter and is spread with unnest, and every
/// entity write is an INSERT ... ON CONFLICT DO UPDATE ... WHERE <stored key is
/// older>, so the version decision is made in SQL, never read-then-write.
/// Not thread-safe: the consumer loop's thread only.
class PgMirrorStore : public MirrorStore {
 public:
  PgMirrorStore(std::string database_url, std::string consumer_group,
                common::logging::Logger& logger);
  ~PgMirrorStore() override;

  std::unique_ptr<MirrorTransaction> begin() override;
  std::vector<common::kafka::TopicPartition> load_offsets(
      const std::vector<common::kafka::TopicPartition>& partitions) override;
  std::int64_t prune_audit(std::chrono::hours retention, std::int64_t limit) override;

  /// Read-only summary for `clerk-mirror status`.
  MirrorSummary summarize();

  /// Marks the connection for replacement (after a connection-level failure); it
  /// is closed on the next begin(), once no transaction uses it any more.
  void discard_connection() { discard_ = true; }

 private:
  PgConnection& connection();

  std::string conninfo_;
  std::string consumer_group_;
  common::logging::Logger& logger_;
  std::unique_ptr<PgConnection> connection_;
  bool discard_ = false;
};

/// Answers /readyz: can the database be reached right now? Keeps its own
/// connection (a pqxx connection is not shared between threads). Thread-safe.
class PgReadiness {
 public:
  explicit PgReadiness(std::string database_url);
  ~PgReadiness();
  /// Translates into `select 1` (reconnecting first when needed); never throws.
  bool ping();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace worker::store
