#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace worker::commands {

/// Runs `clerk-mirror backfill` as a child process for the admin API
/// (POST /admin/backfill), one at a time. The child gets the worker's environment
/// with `overrides` on top (the worker's own KAFKA_BROKERS, KAFKA_TOPIC and
/// DATABASE_URL, which flags may have set), logs to the worker's stderr, and is
/// recorded in clerk.sync_runs like any backfill; its own advisory lock still
/// keeps it from running beside a backfill started elsewhere. A thread waits for
/// it, so it never lingers as a zombie. stop() sends it SIGTERM (the backfill
/// resumes from its checkpoint on the next run), then SIGKILL after `grace`.
/// Thread-safe.
class BackfillLauncher {
 public:
  struct State {
    bool running = false;
    int pid = 0;  ///< 0: none started yet
    std::vector<std::string> args;
    std::int64_t started_at_ms = 0;
    std::int64_t finished_at_ms = 0;  ///< 0 while running
    std::optional<int> exit_code;     ///< the exit status, or 128 + the signal that ended it
  };

  using ExitCallback = std::function<void(const State&)>;

  /// `on_exit` (optional) is called on the waiting thread after each child ended.
  BackfillLauncher(std::string executable,
                   std::vector<std::pair<std::string, std::string>> overrides,
                   ExitCallback on_exit = {});
  ~BackfillLauncher();
  BackfillLauncher(const BackfillLauncher&) = delete;
  BackfillLauncher& operator=(const BackfillLauncher&) = delete;

  enum class Started { kYes, kAlreadyRunning, kStopping, kSpawnFailed };
  struct StartResult {
    Started started = Started::kYes;
    std::string detail;  ///< why not, for the answer
  };
  /// Starts `<executable> backfill <args...>` unless one started here is running.
  StartResult start(std::vector<std::string> args, std::int64_t now_ms);
  State state() const;
  /// Stops a running child (SIGTERM, SIGKILL after `grace`) and waits for it;
  /// start() refuses from then on.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(30));

 private:
  void wait_for_exit(int pid);

  std::string executable_;
  std::vector<std::pair<std::string, std::string>> overrides_;
  ExitCallback on_exit_;
  mutable std::mutex mutex_;
  std::condition_variable exited_;
  State state_;
  bool stopping_ = false;
  std::thread waiter_;
};

}  // namespace worker::commands
