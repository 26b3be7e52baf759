#include "worker/sync/progress_reporter.hpp"

#include <cmath>

#include "common/logging/logger.hpp"

namespace worker::sync {

ProgressRates rates_of(const Progress& progress, std::chrono::steady_clock::duration elapsed) {
  ProgressRates rates;
  double seconds = std::chrono::duration<double>(elapsed).count();
  if (seconds <= 0.0 || progress.entities <= 0) return rates;
  rates.per_second = static_cast<double>(progress.entities) / seconds;
  if (progress.expected >= 0) {
    double remaining =
        static_cast<double>(std::max<std::int64_t>(0, progress.expected - progress.entities));
    rates.left =
        std::chrono::seconds(static_cast<std::int64_t>(std::ceil(remaining / rates.per_second)));
  }
  return rates;
}

std::string progress_line(const Progress& progress, std::chrono::steady_clock::duration elapsed) {
  ProgressRates rates = rates_of(progress, elapsed);
  std::string line = progress.phase + "  page " + std::to_string(progress.pages) + "  " +
                     std::to_string(progress.entities);
  if (progress.expected >= 0) line += "/" + std::to_string(progress.expected);
  line += " entities  " + std::to_string(static_cast<std::int64_t>(std::lround(rates.per_second))) +
          "/s";
  if (rates.left) line += "  ~" + std::to_string(rates.left->count()) + "s left";
  if (!progress.detail.empty()) line += "  " + progress.detail;
  line += "  (" + std::to_string(progress.published) + " published)";
  return line;
}

ConsoleProgressReporter::ConsoleProgressReporter(std::FILE* terminal,
                                                 common::logging::Logger& logger, Clock& clock,
                                                 std::chrono::milliseconds log_interval)
    : terminal_(terminal), logger_(logger), clock_(clock), interval_(log_interval) {}

void ConsoleProgressReporter::update(const Progress& progress) {
  if (progress.phase != phase_) {
    phase_ = progress.phase;
    phase_started_ = clock_.now();
    last_shown_ = phase_started_;
  }
  auto every = terminal_ != nullptr ? std::chrono::milliseconds(200) : interval_;
  if (clock_.now() - last_shown_ >= every) show(progress, false);
}

void ConsoleProgressReporter::finish_phase(const Progress& progress) {
  if (progress.phase != phase_) update(progress);
  show(progress, true);
  phase_.clear();
}

void ConsoleProgressReporter::show(const Progress& progress, bool final) {
  last_shown_ = clock_.now();
  auto elapsed = last_shown_ - phase_started_;
  if (terminal_ != nullptr) {
    // \r and "erase line" redraw in place; the final state stays on its own line.
    std::fprintf(terminal_, "\r\033[K%s%s", progress_line(progress, elapsed).c_str(),
                 final ? "\n" : "");
    std::fflush(terminal_);
    return;
  }
  ProgressRates rates = rates_of(progress, elapsed);
  logger_.info(final ? "phase finished" : "progress",
               {{"phase", progress.phase},
                {"pages", progress.pages},
                {"entities", progress.entities},
                {"expected", progress.expected},
                {"published", progress.published},
                {"detail", progress.detail},
                {"per_second", rates.per_second},
                {"seconds_left", rates.left ? rates.left->count() : -1}});
}

}  // namespace worker::sync
