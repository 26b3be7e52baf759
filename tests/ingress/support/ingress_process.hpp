#pragma once
// Runs the real clerk-mirror-ingress binary (or a script) for the e2e suites.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_env.hpp"

namespace ingress_test {

inline std::string binary(const std::string& name) {
  return test_support::require_env("CLERK_MIRROR_BIN") + "/" + name;
}

inline std::string source_path(const std::string& relative) {
  return test_support::require_env("CLERK_MIRROR_SOURCE") + "/" + relative;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A child process with exactly `env` (plus PATH and HOME); stdout and stderr go to
/// `log_path`. Killed with SIGKILL if still running when destroyed.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env,
               std::string log_path)
      : log_path_(std::move(log_path)) {
    for (const char* inherited : {"PATH", "HOME", "JAVA_HOME", "KAFKA_CACHE_DIR"}) {
      if (const char* value = std::getenv(inherited); value && !env.count(inherited)) {
        env[inherited] = value;
      }
    }
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env)
      env_strings.push_back(k + "=" + v);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
      std::vector<char*> args;
      for (auto& a : argv)
        args.push_back(a.data());
      args.push_back(nullptr);
      std::vector<char*> envp;
      for (auto& e : env_strings)
        envp.push_back(e.data());
      envp.push_back(nullptr);
      ::execve(args[0], args.data(), envp.data());
      _exit(127);
    }
  }
  ~ChildProcess() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait(std::chrono::seconds(10));
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
    }
    return !exited_;
  }
  void signal(int sig) {
    if (running()) ::kill(pid_, sig);
  }
  /// The exit code (128 + signal when killed), or nullopt if still running at the timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    return 128 + WTERMSIG(status_);
  }
  std::string log() const { return read_file(log_path_); }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

/// Runs a command to completion; returns its exit code and output.
inline int run(std::vector<std::string> argv, std::map<std::string, std::string> env,
               std::string& output, std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  std::string log = "/tmp/" + test_support::unique_name("ingress_cmd") + ".log";
  ChildProcess child(std::move(argv), std::move(env), log);
  auto code = child.wait(timeout);
  output = child.log();
  ::unlink(log.c_str());
  return code.value_or(-1);
}

/// clerk-mirror-ingress listening on 127.0.0.1 (port 0 unless env says otherwise).
class IngressProcess {
 public:
  explicit IngressProcess(std::map<std::string, std::string> env)
      : log_path_("/tmp/" + test_support::unique_name("ingress") + ".log") {
    env.emplace("INGRESS_LISTEN", "127.0.0.1:0");
    env.emplace("INGRESS_THREADS", "2");
    process_.emplace(std::vector<std::string>{binary("clerk-mirror-ingress")}, env, log_path_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string text = process_->log();
      std::size_t at = text.find("\"msg\":\"listening\"");
      if (at != std::string::npos) {
        std::size_t key = text.find("\"port\":", at);
        port_ = static_cast<std::uint16_t>(std::stoi(text.substr(key + 7)));
        return;
      }
      if (!process_->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("clerk-mirror-ingress did not start: " + process_->log());
  }
  ~IngressProcess() {
    process_.reset();
    ::unlink(log_path_.c_str());
  }
  std::uint16_t port() const { return port_; }
  ChildProcess& process() { return *process_; }
  std::string log() const { return process_->log(); }

 private:
  std::string log_path_;
  std::optional<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace ingress_test
