#include "worker/commands/backfill_launcher.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace worker::commands {
namespace {

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The worker's environment with `overrides` replacing (or adding) their names.
std::vector<std::string> child_environment(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view line(*entry);
    std::string_view name = line.substr(0, line.find('='));
    bool replaced = false;
    for (const auto& [key, value] : overrides)
      replaced = replaced || name == key;
    if (!replaced) env.emplace_back(line);
  }
  for (const auto& [key, value] : overrides)
    env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

BackfillLauncher::BackfillLauncher(std::string executable,
                                   std::vector<std::pair<std::string, std::string>> overrides,
                                   ExitCallback on_exit)
    : executable_(std::move(executable)),
      overrides_(std::move(overrides)),
      on_exit_(std::move(on_exit)) {}

BackfillLauncher::~BackfillLauncher() {
  stop();
}

BackfillLauncher::StartResult BackfillLauncher::start(std::vector<std::string> args,
                                                      std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (stopping_) return {Started::kStopping, "the worker is stopping"};
  if (state_.running) {
    return {Started::kAlreadyRunning,
            "a backfill started here is running (pid " + std::to_string(state_.pid) + ")"};
  }
  if (waiter_.joinable()) waiter_.join();  // the previous child's waiter has finished

  std::vector<std::string> argv_strings{executable_, "backfill"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = child_environment(overrides_);
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);

  // The worker blocks SIGINT/SIGTERM in every thread (StopSignal); the child starts
  // with nothing blocked and default dispositions, and sets up its own.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  // Nothing but stdin, stdout and stderr: the worker's sockets (Asio's have no
  // close-on-exec) would otherwise outlive it in the child, its admin port with them.
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addclosefrom_np(&files, 3);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, executable_.c_str(), &files, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return {Started::kSpawnFailed, "cannot start " + executable_ + ": " + std::strerror(rc)};
  }

  state_ = State{true, pid, std::move(args), now_ms, 0, std::nullopt};
  waiter_ = std::thread([this, pid] { wait_for_exit(pid); });
  return {};
}

void BackfillLauncher::wait_for_exit(int pid) {
  // Waits without reaping: until the child is marked ended under the lock, its pid
  // stays taken (a zombie), so stop() can never signal a process that reused it.
  siginfo_t info{};
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  State ended;
  {
    std::lock_guard lock(mutex_);
    state_.running = false;
    state_.finished_at_ms = epoch_ms();
    state_.exit_code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    ended = state_;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    exited_.notify_all();
  }
  if (on_exit_) on_exit_(ended);
}

BackfillLauncher::State BackfillLauncher::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void BackfillLauncher::stop(std::chrono::milliseconds grace) {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  if (state_.running) {
    ::kill(state_.pid, SIGTERM);
    if (!exited_.wait_for(lock, grace, [&] { return !state_.running; })) {
      ::kill(state_.pid, SIGKILL);
      exited_.wait(lock, [&] { return !state_.running; });
    }
  }
  lock.unlock();
  if (waiter_.joinable()) waiter_.join();
}

}  // namespace worker::commands
