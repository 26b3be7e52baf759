#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/config/env_reader.hpp"
#include "common/events/event_contract.hpp"
#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/logging/logger.hpp"
#include "common/process/stop_signal.hpp"
#include "worker/commands/command.hpp"
#include "worker/retry/dead_letter.hpp"

namespace worker::commands {
namespace {

constexpr std::string_view kUsage = R"(Usage: clerk-mirror dlq list [--limit N]
       clerk-mirror dlq replay [--event-id ID]... [--dry-run]

Inspects and replays the dead-letter topic <KAFKA_TOPIC>.dlq (design contract
8). Both read the topic from its first offset up to the end offsets it has when
the command starts, partition by partition in offset order, by assigning the
partitions directly: no consumer group joins, nothing is committed, and the
workers are not disturbed.

list     prints one JSON line per dead letter on stdout: dlq_partition,
         dlq_offset, dead_lettered_at, event_id, event_type, event_timestamp,
         key, source, error_class, error_message, original_topic,
         original_partition, original_offset, original_timestamp, attempt,
         worker, value_bytes (the value itself is not shown); then one summary
         line on stderr. An empty or missing dead-letter topic is not an error.
  --limit N        print the first N dead letters only (0: just the summary)

replay   republishes dead letters to KAFKA_TOPIC, after the cause of their
         failure was fixed: the exact key and value and the contract headers
         (event-id, event-type, event-timestamp, source, received-at, ...),
         without the failure headers (attempt, not-before, error-class,
         error-message, worker, original-*), so the worker applies each as a
         first attempt (one that fails again climbs the retry topics back to
         the dead-letter topic). Published with the idempotent acks=all
         producer, partitioned by key; an event dead-lettered more than once is
         replayed once. Prints one JSON line (as for list) per replayed dead
         letter on stdout and the count on stderr.
         Replaying is safe to repeat: the worker's duplicate filter skips an
         event id it already applied, and its version guard never lets an
         older version overwrite a newer one, so replaying twice, or replaying
         an event that meanwhile arrived again, changes nothing more.
  --event-id ID    replay only this event id (repeatable); when one is not in
                   the dead-letter topic, nothing is published (exit 3)
  --dry-run        print what would be replayed; publish nothing

Exit codes: 0 done, 1 failed (broker unreachable, timeout, a record not
acknowledged: replaying again is safe), 2 bad flags or configuration (one line
per problem), 3 refused (an --event-id not found), 130 interrupted.

Environment (flags override: --kafka-topic sets KAFKA_TOPIC):
  KAFKA_BROKERS     host:port[,host:port...] (required)
  KAFKA_TOPIC       main topic (clerk.events); dead letters in <topic>.dlq
  DLQ_TIMEOUT_MS    longest wait for the broker: metadata, each record while
                    reading, all acknowledgements when replaying (30000)
  LOG_LEVEL         debug | info | warn | error (warn)
)";

constexpr int kExitRefused = 3;
constexpr int kExitInterrupted = 130;

enum class Action { kList, kReplay };

struct DlqOptions {
  Action action = Action::kList;
  std::string brokers;
  std::string topic;
  std::string dead_letter_topic;
  std::chrono::milliseconds dlq_timeout{30000};
  common::logging::Level log_level = common::logging::Level::kWarn;
  std::optional<std::int64_t> limit;   ///< list only
  std::vector<std::string> event_ids;  ///< replay only; empty: all
  bool dry_run = false;                ///< replay only
};

// --limit, --event-id and --dry-run are per-run choices, not configuration: they
// are taken out before EnvReader sees the rest (which would read a repeated
// --event-id as one overriding the other, and no variable may set them).
std::optional<DlqOptions> read_options(const std::vector<std::string>& args,
                                       common::config::EnvReader& env) {
  DlqOptions options;
  std::vector<std::string> rest;
  std::optional<std::string> limit_text;
  bool limit_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string name = arg.substr(0, arg.find('='));
    if (name != "--limit" && name != "--event-id") {
      if (arg == "--dry-run") {
        options.dry_run = true;
      } else {
        rest.push_back(arg);
      }
      continue;
    }
    std::optional<std::string> value;
    if (name.size() < arg.size()) {
      value = arg.substr(name.size() + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    }
    if (!value) {
      env.fail(name + ":", "missing value");
    } else if (name == "--limit") {
      limit_given = true;
      limit_text = value;
    } else if (value->empty()) {
      env.fail("--event-id:", "is empty");
    } else {
      options.event_ids.push_back(*value);
    }
  }

  auto positional =
      env.apply_flags(rest, {"KAFKA_BROKERS", "KAFKA_TOPIC", "DLQ_TIMEOUT_MS", "LOG_LEVEL"});
  if (positional.empty()) {
    env.fail("arguments", "missing action: list or replay");
  } else if (positional[0] == "list") {
    options.action = Action::kList;
  } else if (positional[0] == "replay") {
    options.action = Action::kReplay;
  } else {
    env.fail("arguments", "unknown action '" + positional[0] + "': list or replay");
  }
  for (std::size_t i = 1; i < positional.size(); ++i)
    env.fail("arguments", "unexpected: " + positional[i]);
  if (!positional.empty() && options.action == Action::kList) {
    if (options.dry_run) env.fail("--dry-run:", "only for 'dlq replay'");
    if (!options.event_ids.empty()) env.fail("--event-id:", "only for 'dlq replay'");
  }
  if (!positional.empty() && options.action == Action::kReplay && limit_given) {
    env.fail("--limit:", "only for 'dlq list'");
  }
  if (limit_text) {
    std::int64_t limit = -1;
    const char* end = limit_text->data() + limit_text->size();
    auto [stop, ec] = std::from_chars(limit_text->data(), end, limit);
    if (limit_text->empty() || ec != std::errc{} || stop != end || limit < 0) {
      env.fail("--limit:", "must be a whole number >= 0, got '" + *limit_text + "'");
    } else {
      options.limit = limit;
    }
  }

  options.brokers = env.brokers("KAFKA_BROKERS");
  options.topic = env.string("KAFKA_TOPIC", "clerk.events");
  if (options.topic.empty()) env.fail("KAFKA_TOPIC", "is empty");
  options.dead_letter_topic = common::events::dead_letter_topic(options.topic);
  options.dlq_timeout = env.milliseconds("DLQ_TIMEOUT_MS", std::chrono::milliseconds(30000),
                                         std::chrono::milliseconds(100), std::chrono::hours(1));
  std::string level = env.string("LOG_LEVEL", "warn");
  if (!common::logging::parse_level(level, options.log_level)) {
    env.fail("LOG_LEVEL", "is not a level: '" + level + "'");
  }
  if (!env.problems().empty()) return std::nullopt;
  return options;
}

enum class ReadEnd { kComplete, kStoppedEarly, kInterrupted };

struct ReadReport {
  ReadEnd end = ReadEnd::kComplete;
  int partitions = 0;       ///< partitions of the dead-letter topic; 0: it does not exist
  std::int64_t stored = 0;  ///< records between the watermarks at start
};

// Reads the dead-letter topic up to the end offsets it has now, one partition
// after the other in offset order, handing each record to `visit` (false: stop).
// Throws KafkaError when the broker fails or a partition goes quiet for longer
// than the timeout before its end offset.
ReadReport read_dead_letters(
    const DlqOptions& options, common::logging::Logger& logger,
    const common::process::StopSignal& stop,
    const std::function<bool(const common::kafka::ConsumedRecord&)>& visit) {
  ReadReport report;
  common::kafka::KafkaAdmin admin(options.brokers, logger);
  auto marks = admin.watermarks(options.dead_letter_topic, options.dlq_timeout);
  report.partitions = static_cast<int>(marks.size());
  for (const auto& m : marks)
    report.stored += m.high > m.low ? m.high - m.low : 0;
  if (report.stored == 0) return report;

  // A group id is required by librdkafka; assign() never joins it, and with
  // auto-commit off nothing is ever committed under it.
  common::kafka::KafkaConsumer consumer(
      {options.brokers, "clerk-mirror-dlq-reader", "clerk-mirror-dlq"}, logger);
  for (std::size_t p = 0; p < marks.size(); ++p) {
    if (marks[p].high <= marks[p].low) continue;
    auto partition = static_cast<std::int32_t>(p);
    consumer.assign({{options.dead_letter_topic, partition, marks[p].low}});
    // The worker's producer is idempotent, not transactional: offsets have no gaps,
    // so the partition is done once the record before the end offset is read.
    std::int64_t next = marks[p].low;
    auto last_progress = std::chrono::steady_clock::now();
    while (next < marks[p].high) {
      if (stop.stop_requested()) {
        report.end = ReadEnd::kInterrupted;
        return report;
      }
      auto record = consumer.poll(std::chrono::milliseconds(200));
      auto now = std::chrono::steady_clock::now();
      if (!record) {
        if (now - last_progress > options.dlq_timeout) {
          throw common::kafka::KafkaError("reading " + options.dead_letter_topic + " [" +
                                          std::to_string(partition) + "]: nothing arrived for " +
                                          std::to_string(options.dlq_timeout.count()) +
                                          " ms at offset " + std::to_string(next) +
                                          " of end offset " + std::to_string(marks[p].high));
        }
        continue;
      }
      if (record->partition != partition || record->offset < next) continue;
      next = record->offset + 1;
      last_progress = now;
      if (!visit(*record)) {
        report.end = ReadEnd::kStoppedEarly;
        return report;
      }
    }
  }
  return report;
}

// "1 dead letter", "2 dead letters".
std::string count_of(std::int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

int run_list(const DlqOptions& options, common::logging::Logger& logger,
             const common::process::StopSignal& stop) {
  std::int64_t printed = 0;
  ReadReport report;
  if (!options.limit || *options.limit > 0) {
    report = read_dead_letters(options, logger, stop, [&](const auto& record) {
      print_line(retry::dead_letter_json(record));
      ++printed;
      return !options.limit || printed < *options.limit;
    });
  } else {
    common::kafka::KafkaAdmin admin(options.brokers, logger);
    for (const auto& m : admin.watermarks(options.dead_letter_topic, options.dlq_timeout)) {
      ++report.partitions;
      report.stored += m.high > m.low ? m.high - m.low : 0;
    }
  }
  std::fflush(stdout);
  if (report.partitions == 0) {
    std::fprintf(stderr, "clerk-mirror dlq list: %s does not exist: no dead letters\n",
                 options.dead_letter_topic.c_str());
    return 0;
  }
  std::fprintf(stderr, "clerk-mirror dlq list: %lld listed of %s in %s (%s)\n",
               static_cast<long long>(printed), count_of(report.stored, "dead letter").c_str(),
               options.dead_letter_topic.c_str(), count_of(report.partitions, "partition").c_str());
  return report.end == ReadEnd::kInterrupted ? kExitInterrupted : 0;
}

int run_replay(const DlqOptions& options, common::logging::Logger& logger,
               const common::process::StopSignal& stop) {
  const std::set<std::string> wanted(options.event_ids.begin(), options.event_ids.end());
  std::set<std::string> selected_ids;
  std::vector<common::kafka::OutgoingRecord> records;
  std::vector<std::string> lines;
  std::int64_t repeats = 0;
  auto report = read_dead_letters(options, logger, stop, [&](const auto& record) {
    std::string id = retry::dead_letter_event_id(record);
    if (!wanted.empty() && !wanted.contains(id)) return true;
    if (!selected_ids.insert(id).second) {
      ++repeats;  // dead-lettered again after an earlier replay: the same event
      return true;
    }
    records.push_back(retry::replay_record(record, options.topic));
    lines.push_back(retry::dead_letter_json(record));
    return true;
  });
  if (report.end == ReadEnd::kInterrupted) {
    std::fprintf(stderr, "clerk-mirror dlq replay: interrupted; nothing published\n");
    return kExitInterrupted;
  }
  bool missing = false;
  for (const auto& id : wanted) {
    if (selected_ids.contains(id)) continue;
    std::fprintf(stderr, "clerk-mirror dlq replay: event id %s: not in %s\n", id.c_str(),
                 options.dead_letter_topic.c_str());
    missing = true;
  }
  if (missing) {
    std::fprintf(stderr, "clerk-mirror dlq replay: refused: nothing published\n");
    return kExitRefused;
  }
  std::string skipped =
      repeats > 0 ? " (skipped " + count_of(repeats, "repeat") + " of the same events)" : "";
  const std::string selected = count_of(static_cast<std::int64_t>(records.size()), "dead letter");

  common::kafka::KafkaAdmin admin(options.brokers, logger);
  if (!records.empty() && admin.partition_count(options.topic, options.dlq_timeout) == 0) {
    std::fprintf(stderr, "clerk-mirror dlq replay: topic %s does not exist\n",
                 options.topic.c_str());
    return 1;
  }
  if (options.dry_run) {
    for (const auto& line : lines)
      print_line(line);
    std::fflush(stdout);
    std::fprintf(stderr,
                 "clerk-mirror dlq replay: dry run: would replay %s%s to %s; nothing published\n",
                 selected.c_str(), skipped.c_str(), options.topic.c_str());
    return 0;
  }
  common::kafka::BatchDelivery delivery;
  if (!records.empty()) {
    common::kafka::ProducerSettings settings{options.brokers, "clerk-mirror-dlq"};
    settings.delivery_timeout = options.dlq_timeout;
    common::kafka::KafkaProducer producer(settings, logger);
    delivery = producer.produce_all(records, options.dlq_timeout + std::chrono::seconds(5));
  }
  if (!delivery.ok()) {
    std::fprintf(stderr,
                 "clerk-mirror dlq replay: %zu of %zu acknowledged by %s, %zu failed, %zu "
                 "unanswered: %s; replaying again is safe\n",
                 delivery.persisted, records.size(), options.topic.c_str(), delivery.failed,
                 delivery.unreported, delivery.first_error.c_str());
    return 1;
  }
  for (const auto& line : lines)
    print_line(line);
  std::fflush(stdout);
  std::fprintf(stderr, "clerk-mirror dlq replay: replayed %s%s from %s to %s\n", selected.c_str(),
               skipped.c_str(), options.dead_letter_topic.c_str(), options.topic.c_str());
  return 0;
}

int run_dlq(const CommandContext& context) {
  common::config::EnvReader env;
  auto options = read_options(context.args, env);
  if (!options) return report_config_problems("dlq", env.problems());

  common::logging::Logger logger("dlq", options->log_level);
  const char* action = options->action == Action::kList ? "list" : "replay";
  try {
    return options->action == Action::kList ? run_list(*options, logger, context.stop)
                                            : run_replay(*options, logger, context.stop);
  } catch (const common::kafka::KafkaError& e) {
    std::fprintf(stderr, "clerk-mirror dlq %s: kafka: %s\n", action, e.what());
    return 1;
  }
}

}  // namespace

Command dlq_command() {
  return {"dlq", "list dead letters, or replay them to the main topic after a fix", kUsage,
          run_dlq};
}

}  // namespace worker::commands
