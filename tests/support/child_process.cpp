#include "support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "support/test_env.hpp"

namespace test_support {

std::string binary(const std::string& name) {
  return require_env("CLERK_MIRROR_BIN") + "/" + name;
}

std::string source_path(const std::string& relative) {
  return require_env("CLERK_MIRROR_SOURCE") + "/" + relative;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {

// What a child that inherits nothing else still needs: a shell script finds its
// programs, and ops/kafka finds its JVM and its downloaded Kafka.
constexpr const char* kAlwaysPassed[] = {"PATH", "HOME", "JAVA_HOME", "KAFKA_CACHE_DIR"};

std::vector<std::string> environment_of(const ChildSpec& spec) {
  std::map<std::string, std::string> variables;
  if (spec.inherit_env) {
    for (char** entry = environ; *entry != nullptr; ++entry) {
      std::string_view text(*entry);
      std::size_t eq = text.find('=');
      if (eq != std::string_view::npos) {
        variables.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
      }
    }
  } else {
    for (const char* name : kAlwaysPassed) {
      if (const char* value = std::getenv(name)) variables.emplace(name, value);
    }
  }
  for (const auto& [name, value] : spec.env)
    variables[name] = value;
  std::vector<std::string> entries;
  for (const auto& [name, value] : variables)
    entries.push_back(name + "=" + value);
  return entries;
}

std::vector<char*> null_terminated(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings)
    pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

/// A file descriptor, closed when it goes out of scope; -1 holds nothing.
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// O_CLOEXEC, so that a process another thread forks meanwhile does not keep the
// file open; dup2 onto 0, 1 and 2 clears the flag for our own child.
int open_or_throw(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

ChildProcess::ChildProcess(ChildSpec spec) {
  if (spec.argv.empty()) throw std::runtime_error("ChildProcess: argv is empty");
  if (::access(spec.argv[0].c_str(), X_OK) != 0) {
    throw std::runtime_error("ChildProcess: " + spec.argv[0] + " is not executable");
  }
  auto chosen_or_temporary = [this](const std::string& chosen, const char* stream) {
    if (!chosen.empty()) return chosen;
    temporary_files_.push_back("/tmp/" + unique_name(std::string("child_") + stream));
    return temporary_files_.back();
  };
  try {
    out_path_ = chosen_or_temporary(spec.out_path, "out");
    if (!spec.err_to_out) err_path_ = chosen_or_temporary(spec.err_path, "err");

    std::vector<std::string> environment = environment_of(spec);
    std::vector<char*> envp = null_terminated(environment);
    std::vector<char*> args = null_terminated(spec.argv);
    int flags = O_WRONLY | O_CREAT | (spec.append ? O_APPEND : O_TRUNC);
    OwnedFd in(open_or_throw("/dev/null", O_RDONLY));
    OwnedFd out(open_or_throw(out_path_, flags));
    OwnedFd err(spec.err_to_out ? -1 : open_or_throw(err_path_, flags));
    int err_fd = spec.err_to_out ? out.get() : err.get();
    sigset_t no_signals;
    sigemptyset(&no_signals);
    bool own_process_group = spec.own_process_group;

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid_ == 0) {
      // Another thread may have held a lock (malloc's, the environment's) when we
      // forked: from here on, async-signal-safe calls only.
      if (::dup2(in.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(err_fd, 2) < 0) {
        ::_exit(126);
      }
      if (own_process_group) ::setpgid(0, 0);
      // Unblock what the test harness's threads may have blocked.
      ::sigprocmask(SIG_SETMASK, &no_signals, nullptr);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
  } catch (...) {
    remove_temporary_files();
    throw;
  }
}

ChildProcess::~ChildProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  remove_temporary_files();
}

bool ChildProcess::running() {
  return !reap(WNOHANG);
}

void ChildProcess::signal(int sig) {
  // Until it is reaped the pid cannot be reused, so this never reaches a stranger.
  if (!exited_) ::kill(pid_, sig);
}

int ChildProcess::wait() {
  reap(0);
  return code_;
}

bool ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::string ChildProcess::out() const {
  return read_file(out_path_);
}

std::string ChildProcess::err() const {
  return err_path_.empty() ? "" : read_file(err_path_);
}

// Translates into waitpid(pid_, options); true once the child has exited.
bool ChildProcess::reap(int options) {
  while (!exited_) {
    int status = 0;
    pid_t reaped = ::waitpid(pid_, &status, options);
    if (reaped == 0) return false;  // WNOHANG and still running
    if (reaped < 0 && errno == EINTR) continue;
    exited_ = true;
    if (reaped < 0) {
      code_ = -1;  // someone else reaped it: the code is lost
    } else if (WIFEXITED(status)) {
      code_ = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      code_ = 128 + WTERMSIG(status);
    }
  }
  return true;
}

void ChildProcess::remove_temporary_files() {
  for (const auto& path : temporary_files_)
    ::unlink(path.c_str());
  temporary_files_.clear();
}

Finished run(ChildSpec spec, std::chrono::milliseconds timeout) {
  ChildProcess child(std::move(spec));
  if (!child.wait_for(timeout)) child.signal(SIGKILL);
  int code = child.wait();
  return {code, child.out(), child.err()};
}

Finished run(std::vector<std::string> argv, std::map<std::string, std::string> env,
             std::chrono::milliseconds timeout) {
  return run(ChildSpec{.argv = std::move(argv), .env = std::move(env)}, timeout);
}

}  // namespace test_support
