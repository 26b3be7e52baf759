// clerk-mirror: the worker and the operator tools that need the database.
// main only installs the stop signal and dispatches to a subcommand; each
// subcommand (worker/commands/) wires its own objects.
#include <cstdio>
#include <string>
#include <vector>

#include "common/process/stop_signal.hpp"
#include "worker/commands/command.hpp"
#include "worker/sync/sync_commands.hpp"

namespace {

void print_overview(std::FILE* out, const std::vector<worker::commands::Command>& commands) {
  std::fprintf(out,
               "Usage: clerk-mirror <command> [--option value ...]\n\n"
               "Keeps a PostgreSQL mirror of Clerk users, organizations and memberships.\n"
               "Configuration comes from environment variables; --some-option overrides\n"
               "SOME_OPTION.\n\nCommands:\n");
  for (const auto& c : commands) {
    std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  }
  std::fprintf(out, "\nRun 'clerk-mirror <command> --help' for a command's options.\n");
}

bool asks_for_help(const std::string& arg) {
  return arg == "--help" || arg == "-h";
}

}  // namespace

int main(int argc, char** argv) {
  // First: blocks SIGINT/SIGTERM before any other thread exists.
  common::process::StopSignal stop;
  const std::vector<worker::commands::Command> commands{
      worker::commands::worker_command(),  worker::commands::migrate_command(),
      worker::sync::backfill_command(),    worker::sync::reconcile_command(),
      worker::sync::sync_command(),        worker::commands::status_command(),
      worker::commands::rebuild_command(), worker::commands::dlq_command(),
  };
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_overview(stderr, commands);
    return 2;
  }
  if (asks_for_help(args[0]) || args[0] == "help") {
    print_overview(stdout, commands);
    return 0;
  }
  for (const auto& command : commands) {
    if (command.name != args[0]) continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    for (const auto& arg : rest) {
      if (asks_for_help(arg)) {
        std::fwrite(command.usage.data(), 1, command.usage.size(), stdout);
        return 0;
      }
    }
    return command.run({std::move(rest), stop});
  }
  std::fprintf(stderr, "clerk-mirror: unknown command '%s'\n\n", args[0].c_str());
  print_overview(stderr, commands);
  return 2;
}
