#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace common::process {
class StopSignal;
}

namespace worker::commands {

/// What a subcommand gets from main: its arguments (after the subcommand name)
/// and the process's stop signal (installed first thing in main).
struct CommandContext {
  std::vector<std::string> args;
  common::process::StopSignal& stop;
};

/// One `clerk-mirror <name>` subcommand. `run` is that subcommand's wiring: it reads
/// its configuration, builds its objects, runs and stops them in reverse order.
/// Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration,
/// 3 refused (e.g. an edited migration).
struct Command {
  std::string_view name;
  std::string_view summary;  ///< one line, for `clerk-mirror --help`
  std::string_view usage;    ///< for `clerk-mirror <name> --help`
  int (*run)(const CommandContext& context);
};

Command worker_command();
Command migrate_command();
Command status_command();
Command dlq_command();
Command rebuild_command();

/// Prints every configuration problem (one line each) to stderr; returns 2.
int report_config_problems(std::string_view command, const std::vector<std::string>& problems);

}  // namespace worker::commands
