#include "worker/retry/retry_policy.hpp"

#include <algorithm>
#include <cmath>

#include "worker/store/store_error.hpp"

namespace worker::retry {
namespace {

using store::StoreError;
using store::StoreFailure;

bool transient_sqlstate(const std::string& s) {
  if (s.size() != 5) return false;
  std::string cls = s.substr(0, 2);
  if (cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58") return true;
  if (cls == "42" || cls == "3F") return true;  // the schema is not what this binary expects
  return s == "55P03" || s == "55006" || s == "25P02";
}

}  // namespace

RetryPolicy::RetryPolicy(RetryConfig config) : config_(std::move(config)) {}

Disposition RetryPolicy::classify(const StoreError& error) const {
  switch (error.failure()) {
    case StoreFailure::kConnectionLost:
    case StoreFailure::kInDoubt:
      return Disposition::kRetryInPlace;
    case StoreFailure::kStatement:
      return transient_sqlstate(error.sqlstate()) ? Disposition::kRetryInPlace
                                                  : Disposition::kRetryLater;
  }
  return Disposition::kRetryInPlace;
}

Disposition RetryPolicy::classify(std::exception_ptr error) const {
  try {
    std::rethrow_exception(error);
  } catch (const StoreError& e) {
    return classify(e);
  } catch (...) {
    return Disposition::kRetryInPlace;
  }
}

namespace {
constexpr const char* kSqlstateClasses[] = {"08", "22", "23", "25", "40", "42",
                                            "53", "55", "57", "58", "P0", "XX"};
}  // namespace

const std::vector<std::string>& RetryPolicy::failure_labels() {
  static const std::vector<std::string> labels = [] {
    std::vector<std::string> all{"connection", "in_doubt"};
    for (const char* cls : kSqlstateClasses)
      all.emplace_back(cls);
    all.emplace_back("other");
    return all;
  }();
  return labels;
}

std::string RetryPolicy::failure_label(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const StoreError& e) {
    if (e.failure() == StoreFailure::kConnectionLost) return "connection";
    if (e.failure() == StoreFailure::kInDoubt) return "in_doubt";
    std::string cls = e.sqlstate().substr(0, 2);
    for (const char* known : kSqlstateClasses) {
      if (cls == known) return cls;
    }
    return "other";
  } catch (...) {
    return "other";
  }
}

std::chrono::milliseconds RetryPolicy::backoff(int attempt, double jitter01) const {
  double base = static_cast<double>(config_.backoff_initial.count()) *
                std::pow(2.0, std::clamp(attempt - 1, 0, 30));
  double capped = std::min(base, static_cast<double>(config_.backoff_max.count()));
  double factor = 0.5 + 0.5 * std::clamp(jitter01, 0.0, 0.999999);
  return std::chrono::milliseconds(static_cast<std::int64_t>(capped * factor));
}

NextHop RetryPolicy::next_hop(int attempt, bool permanent, std::int64_t now_ms) const {
  if (permanent || attempt >= retry_levels()) return {0, 0};
  int level = std::max(attempt, 0) + 1;
  return {level, now_ms + config_.topic_delays[static_cast<std::size_t>(level - 1)].count()};
}

}  // namespace worker::retry
