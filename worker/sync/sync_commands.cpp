#include "worker/sync/sync_commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <optional>

#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/logging/logger.hpp"
#include "common/process/stop_signal.hpp"
#include "worker/sync/backfill_runner.hpp"
#include "worker/sync/clerk_api_client.hpp"
#include "worker/sync/curl_http_transport.hpp"
#include "worker/sync/entity_syncer.hpp"
#include "worker/sync/kafka_event_publisher.hpp"
#include "worker/sync/postgres_sync_store.hpp"
#include "worker/sync/reconcile_runner.hpp"
#include "worker/sync/sync_command_line.hpp"
#include "worker/sync/sync_config.hpp"

namespace worker::sync {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;
constexpr std::chrono::milliseconds kDeliveryTimeout{30000};

void print_error(std::string_view command, const std::string& message) {
  std::fprintf(stderr, "clerk-mirror %.*s: error: %s\n", static_cast<int>(command.size()),
               command.data(), message.c_str());
}

/// The clients a run needs, built in order and torn down in reverse.
struct Wiring {
  Wiring(const SyncConfig& config, common::process::StopSignal& stop, common::logging::Level level,
         std::string_view component)
      : logger(std::string(component), level),
        clock(&stop),
        store(config.database_url),
        producer(common::kafka::ProducerSettings{config.kafka_brokers, "clerk-mirror-sync",
                                                 kDeliveryTimeout},
                 logger),
        publisher(producer, config.kafka_topic, kDeliveryTimeout),
        transport([&stop] { return stop.stop_requested(); }),
        api(config.api, transport, clock, logger),
        progress(isatty(fileno(stderr)) ? stderr : nullptr, logger, clock,
                 config.progress_interval) {}

  common::logging::Logger logger;
  SystemClock clock;
  PostgresSyncStore store;
  common::kafka::KafkaProducer producer;
  KafkaEventPublisher publisher;
  CurlHttpTransport transport;
  ClerkApiClient api;
  ConsoleProgressReporter progress;
};

/// Waits, at most RECONCILE_CATCH_UP_MS, until the workers have applied every event the
/// main topic held when reconcile started; otherwise events still in Kafka would be
/// reported as drift. Says how far behind the workers were if they did not catch up.
void catch_up(const SyncConfig& config, PostgresSyncStore& store, SystemClock& clock,
              common::logging::Logger& logger) {
  if (config.reconcile_catch_up.count() == 0) return;
  common::kafka::KafkaAdmin admin(config.kafka_brokers, logger);
  auto ends = admin.watermarks(config.kafka_topic, std::chrono::seconds(10));
  auto behind = [&] {
    auto applied = store.applied_offsets(config.kafka_topic);
    std::int64_t events = 0;
    for (std::size_t p = 0; p < ends.size(); ++p) {
      auto it = applied.find(static_cast<std::int32_t>(p));
      std::int64_t done = it != applied.end() ? it->second : ends[p].low;
      events += std::max<std::int64_t>(0, ends[p].high - std::max(done, ends[p].low));
    }
    return events;
  };
  auto deadline = clock.now() + config.reconcile_catch_up;
  std::int64_t left = behind();
  if (left > 0) logger.info("waiting for the workers to catch up", {{"events_behind", left}});
  while (left > 0) {
    if (clock.now() >= deadline) {
      logger.warn(
          "the workers did not catch up; drift found now may be events still in Kafka "
          "(their fixes are harmless: the worker keeps the newest version)",
          {{"events_behind", left},
           {"waited_ms", static_cast<std::int64_t>(config.reconcile_catch_up.count())}});
      return;
    }
    if (!clock.sleep_until(std::min(deadline, clock.now() + std::chrono::milliseconds(250)))) {
      throw RunInterrupted();
    }
    left = behind();
  }
}

/// Fails early, with the topic's name, when the broker or the topic is not there.
void check_topic(const SyncConfig& config, common::logging::Logger& logger) {
  common::kafka::KafkaAdmin admin(config.kafka_brokers, logger);
  if (admin.partition_count(config.kafka_topic, std::chrono::seconds(10)) == 0) {
    throw std::runtime_error("Kafka topic '" + config.kafka_topic + "' does not exist on " +
                             config.kafka_brokers + " (KAFKA_TOPIC)");
  }
}

std::string api_summary(const ApiStats& stats) {
  return std::to_string(stats.requests) + " API requests, " + std::to_string(stats.retries) +
         " retries, " + std::to_string(stats.throttled) + " throttled";
}

std::string kind_counts(const RunCounts& counts, bool expected) {
  std::string out;
  for (const auto& [kind, c] : counts.kinds) {
    if (!out.empty()) out += ", ";
    out +=
        std::to_string(expected ? c.expected : c.published) + " " + std::string(plural_name(kind));
  }
  return out.empty() ? "nothing" : out;
}

template <typename Body>
int guarded(std::string_view command, common::process::StopSignal& stop, Body body) {
  try {
    return body();
  } catch (const RunBusy& e) {
    print_error(command, e.what());
  } catch (const std::exception& e) {
    if (stop.stop_requested()) {
      print_error(command, "interrupted");
      return kExitInterrupted;
    }
    print_error(command, e.what());
  }
  return kExitFailed;
}

common::logging::Level level_for(const SyncConfig& config, bool verbose) {
  return verbose ? common::logging::Level::kDebug : config.log_level;
}

}  // namespace

int run_backfill(const std::vector<std::string>& args, common::process::StopSignal& stop) {
  constexpr std::string_view kCommand = "backfill";
  CommandLine line = parse_command_line(
      args, {"--users", "--organizations", "--memberships", "--dry-run", "--restart", "--verbose"});
  if (line.help) {
    std::fwrite(backfill_usage().data(), 1, backfill_usage().size(), stdout);
    return kExitOk;
  }
  for (const auto& word : line.positional)
    line.problems.push_back("unexpected argument '" + word + "' (see --help)");
  auto config = configure(kCommand, line);
  if (!config) return kExitUsage;
  BackfillOptions options{line.selection()};
  options.dry_run = line.has("--dry-run");
  options.restart = line.has("--restart");
  options.page_size = config->page_size;
  return guarded(kCommand, stop, [&] {
    Wiring w(*config, stop, level_for(*config, line.has("--verbose")), kCommand);
    check_topic(*config, w.logger);
    BackfillRunner runner(w.api, w.publisher, w.store, w.clock, w.progress);
    BackfillResult result = runner.run(options);
    std::string resumed = result.resumed_from
                              ? " (resumed from run " + std::to_string(*result.resumed_from) + ")"
                              : "";
    if (result.status == RunStatus::kInterrupted) {
      std::printf("backfill run %lld interrupted after publishing %s; run again to resume\n",
                  static_cast<long long>(result.run_id), kind_counts(result.counts, false).c_str());
      return kExitInterrupted;
    }
    if (options.dry_run) {
      std::printf(
          "backfill dry run %lld: Clerk API, Kafka topic %s and the database answer; would "
          "publish %s; %s\n",
          static_cast<long long>(result.run_id), config->kafka_topic.c_str(),
          kind_counts(result.counts, true).c_str(), api_summary(result.counts.api).c_str());
    } else {
      std::printf("backfill run %lld succeeded%s: published %s; %s\n",
                  static_cast<long long>(result.run_id), resumed.c_str(),
                  kind_counts(result.counts, false).c_str(),
                  api_summary(result.counts.api).c_str());
    }
    return kExitOk;
  });
}

int run_reconcile(const std::vector<std::string>& args, common::process::StopSignal& stop) {
  constexpr std::string_view kCommand = "reconcile";
  CommandLine line = parse_command_line(
      args, {"--users", "--organizations", "--memberships", "--dry-run", "--json", "--verbose"});
  if (line.help) {
    std::fwrite(reconcile_usage().data(), 1, reconcile_usage().size(), stdout);
    return kExitOk;
  }
  for (const auto& word : line.positional)
    line.problems.push_back("unexpected argument '" + word + "' (see --help)");
  auto config = configure(kCommand, line);
  if (!config) return kExitUsage;
  ReconcileOptions options{line.selection()};
  options.dry_run = line.has("--dry-run");
  options.page_size = config->page_size;
  bool json = line.has("--json");
  return guarded(kCommand, stop, [&] {
    Wiring w(*config, stop, level_for(*config, line.has("--verbose")), kCommand);
    check_topic(*config, w.logger);
    catch_up(*config, w.store, w.clock, w.logger);
    ReconcileRunner runner(w.api, w.publisher, w.store, w.clock, w.progress);
    ReconcileResult result = runner.run(options);
    std::int64_t drift_found = 0;
    for (const auto& [kind, drift] : result.drift)
      drift_found += static_cast<std::int64_t>(drift.total());
    if (json) {
      std::printf(
          "{\"run_id\":%lld,\"dry_run\":%s,\"status\":\"%s\",\"drift_found\":%lld,"
          "\"published\":%lld,\"drift\":%s}\n",
          static_cast<long long>(result.run_id), options.dry_run ? "true" : "false",
          std::string(to_string(result.status)).c_str(), static_cast<long long>(drift_found),
          static_cast<long long>(result.counts.published()), drift_json(result.drift).c_str());
    } else {
      std::printf("reconcile run %lld%s %s: %lld drifted, %lld fixes published; %s\n",
                  static_cast<long long>(result.run_id), options.dry_run ? " (dry run)" : "",
                  std::string(to_string(result.status)).c_str(),
                  static_cast<long long>(drift_found),
                  static_cast<long long>(result.counts.published()),
                  api_summary(result.counts.api).c_str());
      for (const auto& [kind, drift] : result.drift) {
        std::printf("  %s: %zu missing, %zu stale, %zu gone\n",
                    std::string(plural_name(kind)).c_str(), drift.missing.size(),
                    drift.stale.size(), drift.gone.size());
        auto ids = [](const char* label, const std::set<std::string>& set) {
          if (set.empty()) return;
          std::printf("    %s:", label);
          for (const auto& id : set)
            std::printf(" %s", id.c_str());
          std::printf("\n");
        };
        ids("missing", drift.missing);
        ids("stale", drift.stale);
        ids("gone", drift.gone);
      }
    }
    return result.status == RunStatus::kInterrupted ? kExitInterrupted : kExitOk;
  });
}

int run_sync(const std::vector<std::string>& args, common::process::StopSignal& stop) {
  constexpr std::string_view kCommand = "sync";
  CommandLine line = parse_command_line(args, {"--dry-run", "--verbose"});
  if (line.help) {
    std::fwrite(sync_usage().data(), 1, sync_usage().size(), stdout);
    return kExitOk;
  }
  EntitySyncRequest request;
  if (line.positional.size() != 2 ||
      (line.positional[0] != "user" && line.positional[0] != "organization")) {
    line.problems.push_back("expected 'user <id>' or 'organization <id>' (see --help)");
  } else if (line.positional[1].empty()) {
    line.problems.push_back("the id is empty");
  } else {
    request.kind = line.positional[0] == "user" ? EntityKind::kUser : EntityKind::kOrganization;
    request.id = line.positional[1];
  }
  auto config = configure(kCommand, line);
  if (!config) return kExitUsage;
  request.dry_run = line.has("--dry-run");
  request.page_size = config->page_size;
  return guarded(kCommand, stop, [&] {
    Wiring w(*config, stop, level_for(*config, line.has("--verbose")), kCommand);
    check_topic(*config, w.logger);
    EntitySyncer syncer(w.api, w.publisher, w.store, w.clock);
    EntitySyncResult result = syncer.run(request);
    std::string what = std::string(object_name(request.kind)) + " " + request.id;
    std::string verb = request.dry_run ? "would publish" : "published";
    if (result.found) {
      std::string members;
      if (request.kind == EntityKind::kOrganization) {
        const KindCounts& m = result.counts.kinds[EntityKind::kMembership];
        members = " with " + std::to_string(m.fetched) + " memberships" +
                  (result.memberships_deleted > 0
                       ? " (and deletes for " + std::to_string(result.memberships_deleted) +
                             " the source no longer lists)"
                       : "");
      }
      std::printf("sync run %lld: %s %s%s\n", static_cast<long long>(result.run_id), verb.c_str(),
                  what.c_str(), members.c_str());
    } else if (result.deleted) {
      std::printf("sync run %lld: %s not found at the source; %s a delete for it\n",
                  static_cast<long long>(result.run_id), what.c_str(), verb.c_str());
    } else {
      std::printf(
          "sync run %lld: %s not found at the source nor alive in the mirror; nothing "
          "to do\n",
          static_cast<long long>(result.run_id), what.c_str());
    }
    return kExitOk;
  });
}

worker::commands::Command backfill_command() {
  return {"backfill", "publish every user, organization and membership from the Clerk API",
          backfill_usage(),
          [](const worker::commands::CommandContext& c) { return run_backfill(c.args, c.stop); }};
}

worker::commands::Command reconcile_command() {
  return {"reconcile", "compare the mirror with the Clerk API; report and fix drift",
          reconcile_usage(),
          [](const worker::commands::CommandContext& c) { return run_reconcile(c.args, c.stop); }};
}

worker::commands::Command sync_command() {
  return {"sync", "publish one user, or one organization with its memberships, now", sync_usage(),
          [](const worker::commands::CommandContext& c) { return run_sync(c.args, c.stop); }};
}

}  // namespace worker::sync
