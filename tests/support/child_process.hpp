#pragma once
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

/// Runs this build's binaries and the ops/ scripts as child processes, for the
/// worker, sync and ingress integration suites. Each suite builds its own helpers
/// (a worker, an ingress, a sync stack) on these.
namespace test_support {

/// `$CLERK_MIRROR_BIN/<name>`: a binary of this build (CTest sets the variable).
std::string binary(const std::string& name);
/// `$CLERK_MIRROR_SOURCE/<relative>`: a file of the source tree, such as an ops/ script.
std::string source_path(const std::string& relative);
/// The file's whole content; empty when it cannot be read.
std::string read_file(const std::string& path);

/// What a child runs and what it is given. An aggregate: name only the fields
/// that differ from the defaults, e.g. `{.argv = {...}, .err_to_out = true}`.
struct ChildSpec {
  std::vector<std::string> argv;           ///< argv[0] is the executable's path (no PATH search)
  std::map<std::string, std::string> env;  ///< set in the child, over anything inherited
  /// false: the child gets only `env` plus the parent's PATH, HOME, JAVA_HOME and KAFKA_CACHE_DIR.
  bool inherit_env = true;
  std::string out_path;  ///< stdout's file; empty: a temporary file, removed with the ChildProcess
  std::string err_path;  ///< stderr's file; empty: a temporary file, removed with the ChildProcess
  bool err_to_out = false;         ///< stderr goes to stdout's file; err_path is not used
  bool append = false;             ///< append to out_path and err_path instead of truncating them
  bool own_process_group = false;  ///< setpgid(0, 0): kill(-pid(), sig) reaches its children too
};

/// One child process, started by the constructor. The test process has threads
/// (librdkafka, servers), so everything (argv, environment, open files) is
/// prepared before fork and the child calls only async-signal-safe functions
/// (dup2, setpgid, sigprocmask, execve, _exit). The child reads stdin from
/// /dev/null and starts with no signal blocked. Owns the process: one still
/// running at destruction is killed with SIGKILL and reaped. Not thread-safe.
/// Throws std::runtime_error when argv[0] is not executable, a file cannot be
/// opened or fork fails; a failed execve shows as exit code 127.
class ChildProcess {
 public:
  explicit ChildProcess(ChildSpec spec);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();                                    ///< false once it has exited (and is reaped)
  void signal(int sig);                              ///< kill(pid(), sig); nothing once it exited
  int wait();                                        ///< exit code, or 128 + the signal
  bool wait_for(std::chrono::milliseconds timeout);  ///< true when it exited within `timeout`
  std::string out() const;                           ///< what stdout's file holds now
  std::string err() const;  ///< what stderr's file holds now; empty with err_to_out

 private:
  bool reap(int options);
  void remove_temporary_files();

  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
  std::string out_path_;
  std::string err_path_;                      ///< empty with err_to_out
  std::vector<std::string> temporary_files_;  ///< ours to remove
};

/// A child run to its end.
struct Finished {
  int code = -1;  ///< exit code, or 128 + the signal (137 when killed at the timeout)
  std::string out;
  std::string err;  ///< empty with err_to_out: everything is in `out`
};

/// Runs `spec` to its end, killing it with SIGKILL at `timeout`.
Finished run(ChildSpec spec, std::chrono::milliseconds timeout = std::chrono::seconds(120));

/// Runs `argv` with the inherited environment plus `env`, stdout and stderr captured apart.
Finished run(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
             std::chrono::milliseconds timeout = std::chrono::seconds(120));

}  // namespace test_support
