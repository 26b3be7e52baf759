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

// Writes one JSON object member by member, commas included.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
  JsonObject& string(std::string_view name, std::string_view value) {
    key(name);
    common::logging::append_json_string(out_, value);
    return *this;
  }
  /// null when `value` is empty.
  JsonObject& string_or_null(std::string_view name, std::string_view value) {
    if (value.empty()) return raw(name, "null");
    return string(name, value);
  }
  JsonObject& number(std::string_view name, std::int64_t value) {
    return raw(name, std::to_string(value));
  }
  JsonObject& boolean(std::string_view name, bool value) {
    return raw(name, value ? "true" : "false");
  }
  /// RFC 3339; null when `epoch_ms` is 0 or less.
  JsonObject& time(std::string_view name, std::int64_t epoch_ms) {
    if (epoch_ms <= 0) return raw(name, "null");
    return string(name, common::logging::rfc3339_ms(epoch_ms));
  }
  JsonObject& raw(std::string_view name, std::string_view json) {
    key(name);
    out_ += json;
    return *this;
  }
  /// Starts a member whose value the caller writes next.
  void key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    common::logging::append_json_string(out_, name);
    out_ += ':';
  }
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace

std::string to_json(const WorkerStatus::Snapshot& s) {
  std::string out;
  JsonObject status(out);
  status.string("name", s.name)
      .string("group", s.group)
      .time("started_at", s.started_at_ms)
      .boolean("retrying", s.retrying)
      .number("batches_committed", s.batches_committed);

  status.key("events");
  JsonObject events(out);
  for (std::size_t i = 0; i < s.outcomes.size(); ++i)
    events.number(apply::to_string(static_cast<apply::Outcome>(i)), s.outcomes[i]);
  events.close();

  if (s.last_event) {
    const auto& e = *s.last_event;
    status.key("last_event");
    JsonObject event(out);
    event.string("id", e.id)
        .string("type", e.type)
        .string("source", e.source)
        .string("topic", e.topic)
        .number("partition", e.partition)
        .number("offset", e.offset)
        .time("committed_at", e.committed_at_ms)
        .close();
  } else {
    status.raw("last_event", "null");
  }

  if (s.last_error) {
    const auto& f = *s.last_error;
    status.key("last_error");
    JsonObject error(out);
    error.string("scope", f.scope)
        .string("class", f.error_class)
        .string("message", f.message)
        .string_or_null("event_id", f.event_id)
        .time("at", f.at_ms)
        .close();
  } else {
    status.raw("last_error", "null");
  }

  std::int64_t total = 0;
  for (const auto& [tp, lag] : s.lag)
    total += lag;
  status.key("lag");
  JsonObject lag(out);
  lag.number("total", total).time("measured_at", s.lag_at_ms).key("partitions");
  out += '[';
  for (std::size_t i = 0; i < s.lag.size(); ++i) {
    if (i) out += ',';
    JsonObject partition(out);
    partition.string("topic", s.lag[i].first.topic)
        .number("partition", s.lag[i].first.partition)
        .number("lag", s.lag[i].second)
        .close();
  }
  out += ']';
  lag.close();
  status.close();
  return out;
}

}  // namespace worker::observe
