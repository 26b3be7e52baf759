#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

/// Runs clerk-mirror (or a script) as a child process for integration tests.
namespace worker_test {

inline std::string binary(const std::string& name) {
  const char* dir = std::getenv("CLERK_MIRROR_BIN");
  if (dir == nullptr) throw std::runtime_error("CLERK_MIRROR_BIN is not set: run through ctest");
  return std::string(dir) + "/" + name;
}

inline std::string source_path(const std::string& relative) {
  const char* dir = std::getenv("CLERK_MIRROR_SOURCE");
  if (dir == nullptr) throw std::runtime_error("CLERK_MIRROR_SOURCE is not set: run through ctest");
  return std::string(dir) + "/" + relative;
}

/// A child with extra environment variables; stdout+stderr go to `log_path`
/// (appended), or to /dev/null. Killed (SIGKILL) if still running when destroyed.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env,
               const std::string& log_path = "/dev/null") {
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      // Own process group, so a test can signal a script and its children.
      setpgid(0, 0);
      for (const auto& [k, v] : env)
        setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> args;
      for (auto& a : argv)
        args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~ChildProcess() {
    if (running()) {
      kill(pid_, SIGKILL);
      wait();
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (exited_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
      return false;
    }
    return true;
  }
  void signal(int sig) {
    if (!exited_) kill(pid_, sig);
  }
  /// Waits for exit; returns the exit code, or 128+signal.
  int wait() {
    if (!exited_) {
      int status = 0;
      waitpid(pid_, &status, 0);
      exited_ = true;
      status_ = status;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }
  /// Waits at most `timeout`; true when it exited.
  bool wait_for(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

/// Runs to completion; returns the exit code.
inline int run(std::vector<std::string> argv, std::map<std::string, std::string> env,
               const std::string& log_path = "/dev/null") {
  ChildProcess child(std::move(argv), std::move(env), log_path);
  return child.wait();
}

}  // namespace worker_test
