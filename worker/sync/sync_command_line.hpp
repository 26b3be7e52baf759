#pragma once
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "worker/sync/entity_selection.hpp"
#include "worker/sync/sync_config.hpp"

namespace common::config {
class EnvReader;
}

namespace worker::sync {

/// The words after `clerk-mirror <command>`: switches (`--dry-run`), `--help`,
/// positional words, and `--variable value` overrides handed to an EnvReader.
/// Unknown options are problems, reported with the configuration's.
struct CommandLine {
  CommandLine();
  ~CommandLine();
  CommandLine(CommandLine&&) = default;
  bool has(const std::string& name) const { return switches.count(name) > 0; }
  /// `--users`, `--organizations`, `--memberships`: the ones given, or all when none is.
  EntitySelection selection() const;

  std::set<std::string> switches;
  std::vector<std::string> positional;
  bool help = false;
  std::vector<std::string> problems;
  std::unique_ptr<common::config::EnvReader> env;  ///< the environment plus the overrides
};

/// Splits `args`; `switches` are the command's flags without a value.
CommandLine parse_command_line(const std::vector<std::string>& args,
                               const std::set<std::string>& switches);

/// Reads the configuration and prints every problem (the command line's and
/// the variables'), one line each, naming `command`; nullopt when there were any.
std::optional<SyncConfig> configure(std::string_view command, CommandLine& line);

}  // namespace worker::sync
