#include "worker/sync/sync_command_line.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/config/env_reader.hpp"

namespace worker::sync {
namespace {

std::string flag_variable(std::string_view flag) {
  std::string name;
  for (char c : flag)
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

CommandLine::CommandLine() : env(std::make_unique<common::config::EnvReader>()) {}
CommandLine::~CommandLine() = default;

EntitySelection CommandLine::selection() const {
  EntitySelection given{has("--users"), has("--organizations"), has("--memberships")};
  return given == EntitySelection{false, false, false} ? EntitySelection{} : given;
}

CommandLine parse_command_line(const std::vector<std::string>& args,
                               const std::set<std::string>& switches) {
  CommandLine line;
  std::vector<std::string> overrides;
  const auto& known = sync_variable_names();
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      line.help = true;
    } else if (switches.count(arg) > 0) {
      line.switches.insert(arg);
    } else if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      std::string name =
          arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
      if (std::find(known.begin(), known.end(), flag_variable(name)) == known.end()) {
        line.problems.push_back("--" + name + ": unknown option (see --help)");
        continue;
      }
      overrides.push_back(arg);
      if (arg.find('=') == std::string::npos && i + 1 < args.size()) overrides.push_back(args[++i]);
    } else if (arg.rfind("-", 0) == 0 && arg.size() > 1) {
      line.problems.push_back(arg + ": unknown option (see --help)");
    } else {
      line.positional.push_back(arg);
    }
  }
  line.env->apply_flags(overrides, known);
  return line;
}

std::optional<SyncConfig> configure(std::string_view command, CommandLine& line) {
  SyncConfig config = read_sync_config(*line.env);
  std::vector<std::string> problems = line.problems;
  for (const auto& p : line.env->problems())
    problems.push_back(p);
  for (const auto& p : problems)
    std::fprintf(stderr, "clerk-mirror %.*s: %s\n", static_cast<int>(command.size()),
                 command.data(), p.c_str());
  if (!problems.empty()) return std::nullopt;
  return config;
}

}  // namespace worker::sync
