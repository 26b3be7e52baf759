#pragma once
#include <map>
#include <optional>
#include <string>

#include "common/config/env_reader.hpp"

namespace test_support {

/// An EnvReader over `values` instead of the process environment, for the
/// configuration tests: a name missing from the map reads as unset.
inline common::config::EnvReader env_reader(std::map<std::string, std::string> values) {
  return common::config::EnvReader(
      [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
      });
}

}  // namespace test_support
