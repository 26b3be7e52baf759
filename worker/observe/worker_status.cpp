#include "worker/observe/worker_status.hpp"

#include "common/logging/logger.hpp"

namespace worker::observe {

WorkerStatus::WorkerStatus(std::string name, std::string group, std::int64_t started_at_ms) {
  state_.name = std::move(name);
  state_.group = std::move(group);
  state_.started_at_ms = started_at_ms;
}

void WorkerStatus::committed(const std::array<std::int64_t, apply::kOutcomeCount>& outcomes,
                             std::optional<LastEvent> last) {
  std::lock_guard lock(mutex_);
  state_.retrying = false;
  ++state_.batches_committed;
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    state_.outcomes[i] += outcomes[i];
  if (last) state_.last_event = std::move(last);
}

void WorkerStatus::failed(Failure failure) {
  std::lock_guard lock(mutex_);
  if (failure.scope == "batch") state_.retrying = true;
  state_.last_error = std::move(failure);
}

void WorkerStatus::lag(
    std::vector<std::pair<common::kafka::TopicPartition, std::int64_t>> per_partition,
    std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  state_.lag = std::move(per_partition);
  state_.lag_at_ms = at_ms;
}

WorkerStatus::Snapshot WorkerStatus::snapshot() const {
  std::lock_guard lock(mutex_);
  return state_;
}

namespace {

void add_string(std::string& out, std::string_view name, std::string_view value) {
  out += '"';
  out += name;
  out += "\":";
  common::logging::append_json_string(out, value);
}

void add_number(std::string& out, std::string_view name, std::int64_t value) {
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(value);
}

void add_time(std::string& out, std::string_view name, std::int64_t epoch_ms) {
  add_string(out, name, common::logging::rfc3339_ms(epoch_ms));
}

}  // namespace

std::string to_json(const WorkerStatus::Snapshot& s) {
  std::string out = "{";
  add_string(out, "name", s.name);
  out += ',';
  add_string(out, "group", s.group);
  out += ',';
  add_time(out, "started_at", s.started_at_ms);
  out += std::string(",\"retrying\":") + (s.retrying ? "true" : "false") + ",";
  add_number(out, "batches_committed", s.batches_committed);
  out += ",\"events\":{";
  for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
    if (i) out += ',';
    add_number(out, apply::to_string(static_cast<apply::Outcome>(i)), s.outcomes[i]);
  }
  out += "},\"last_event\":";
  if (s.last_event) {
    const auto& e = *s.last_event;
    out += '{';
    add_string(out, "id", e.id);
    out += ',';
    add_string(out, "type", e.type);
    out += ',';
    add_string(out, "source", e.source);
    out += ',';
    add_string(out, "topic", e.topic);
    out += ',';
    add_number(out, "partition", e.partition);
    out += ',';
    add_number(out, "offset", e.offset);
    out += ',';
    add_time(out, "committed_at", e.committed_at_ms);
    out += '}';
  } else {
    out += "null";
  }
  out += ",\"last_error\":";
  if (s.last_error) {
    const auto& f = *s.last_error;
    out += '{';
    add_string(out, "scope", f.scope);
    out += ',';
    add_string(out, "class", f.error_class);
    out += ',';
    add_string(out, "message", f.message);
    out += ",\"event_id\":";
    if (f.event_id.empty()) {
      out += "null";
    } else {
      common::logging::append_json_string(out, f.event_id);
    }
    out += ',';
    add_time(out, "at", f.at_ms);
    out += '}';
  } else {
    out += "null";
  }
  std::int64_t total = 0;
  for (const auto& [tp, lag] : s.lag)
    total += lag;
  out += ",\"lag\":{";
  add_number(out, "total", total);
  out += ",\"measured_at\":";
  if (s.lag_at_ms > 0) {
    common::logging::append_json_string(out, common::logging::rfc3339_ms(s.lag_at_ms));
  } else {
    out += "null";
  }
  out += ",\"partitions\":[";
  for (std::size_t i = 0; i < s.lag.size(); ++i) {
    const auto& [tp, lag] = s.lag[i];
    out += i ? ",{" : "{";
    add_string(out, "topic", tp.topic);
    out += ',';
    add_number(out, "partition", tp.partition);
    out += ',';
    add_number(out, "lag", lag);
    out += '}';
  }
  out += "]}}";
  return out;
}

}  // namespace worker::observe
