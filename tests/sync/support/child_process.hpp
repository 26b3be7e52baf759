#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_env.hpp"

/// Runs the real binaries for the sync tests. Test-only code.
namespace sync_test {

inline std::string bin(const std::string& name) {
  return test_support::require_env("CLERK_MIRROR_BIN") + "/" + name;
}

inline std::string source_file(const std::string& relative) {
  return test_support::require_env("CLERK_MIRROR_SOURCE") + "/" + relative;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A child process with extra environment variables; stdout and stderr go to
/// files the test can read. Killed with SIGKILL if still running at the end.
class Child {
 public:
  Child(std::vector<std::string> argv, const std::map<std::string, std::string>& env)
      : out_path_(temp_path("out")), err_path_(temp_path("err")) {
    // Everything is prepared before fork: the child of a threaded process may
    // only call async-signal-safe functions.
    std::map<std::string, std::string> merged;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      auto eq = entry.find('=');
      if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [k, v] : env)
      merged[k] = v;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : merged)
      env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, 1);
      dup2(err, 2);
      int devnull = open("/dev/null", O_RDONLY);
      dup2(devnull, 0);
      // Unblock what the parent's test harness may have blocked.
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
  }
  ~Child() {
    if (running()) {
      kill(pid_, SIGKILL);
      wait();
    }
    unlink(out_path_.c_str());
    unlink(err_path_.c_str());
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

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
  /// Exit code, or 128 + signal.
  int wait() {
    if (!exited_) {
      int status = 0;
      waitpid(pid_, &status, 0);
      exited_ = true;
      status_ = status;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }
  bool wait_for(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  std::string out() const { return read_file(out_path_); }
  std::string err() const { return read_file(err_path_); }

 private:
  static std::string temp_path(const char* what) {
    return "/tmp/" + test_support::unique_name(std::string("sync_e2e_") + what);
  }
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::string out_path_;
  std::string err_path_;
};

struct Finished {
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs to completion (at most `timeout`, then SIGKILL).
inline Finished run(std::vector<std::string> argv, const std::map<std::string, std::string>& env,
                    std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  Child child(std::move(argv), env);
  if (!child.wait_for(timeout)) child.signal(SIGKILL);
  Finished f;
  f.code = child.wait();
  f.out = child.out();
  f.err = child.err();
  return f;
}

}  // namespace sync_test
