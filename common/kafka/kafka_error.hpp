#pragma once
#include <stdexcept>
#include <string>

namespace common::kafka {

/// A librdkafka failure translated at the adapter: what was attempted and
/// librdkafka's own words. `fatal` marks an instance that must be recreated.
class KafkaError : public std::runtime_error {
 public:
  KafkaError(const std::string& what, int code = 0, bool fatal = false)
      : std::runtime_error(what), code_(code), fatal_(fatal) {}
  int code() const { return code_; }
  bool fatal() const { return fatal_; }

 private:
  int code_;
  bool fatal_;
};

}  // namespace common::kafka
