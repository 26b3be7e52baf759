// Publishes a mixed stream of Clerk events for ops/bench/worker: user, organization
// and membership creations and updates, and deletions, keyed like the ingress
// does, with the contract headers. Either as fast as the broker takes them
// (preload) or at a fixed rate with event timestamps = now (end-to-end delay).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "common/kafka/kafka_producer.hpp"
#include "common/logging/logger.hpp"
#include "worker/support/clerk_events.hpp"

namespace {

struct Options {
  std::string brokers;
  std::string topic;
  long events = 1000000;
  long users = 200000;
  long organizations = 20000;
  long memberships = 300000;
  double rate = 0;  ///< events per second; 0: as fast as possible
  std::uint64_t seed = 1;
  std::string prefix = "b";
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--brokers")
      o.brokers = v;
    else if (k == "--topic")
      o.topic = v;
    else if (k == "--events")
      o.events = std::stol(v);
    else if (k == "--users")
      o.users = std::stol(v);
    else if (k == "--organizations")
      o.organizations = std::stol(v);
    else if (k == "--memberships")
      o.memberships = std::stol(v);
    else if (k == "--rate")
      o.rate = std::stod(v);
    else if (k == "--seed")
      o.seed = std::stoull(v);
    else if (k == "--prefix")
      o.prefix = v;
    else
      return false;
  }
  return !o.brokers.empty() && !o.topic.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: worker_bench_load --brokers B --topic T [--events N] [--users U] "
                 "[--organizations O] [--memberships M] [--rate R] [--seed S] [--prefix P]\n");
    return 2;
  }
  common::logging::Logger logger("bench-load", common::logging::Level::kWarn);
  common::kafka::ProducerSettings settings{o.brokers, "worker-bench-load"};
  settings.linger = std::chrono::milliseconds(10);
  settings.delivery_timeout = std::chrono::milliseconds(120000);
  settings.extra["batch.size"] = "1000000";
  settings.extra["batch.num.messages"] = "10000";
  common::kafka::KafkaProducer producer(settings, logger);

  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> unit(0, 1);
  auto pick = [&](long n) { return std::uniform_int_distribution<long>(0, n - 1)(rng); };
  std::atomic<long> failed{0};
  const std::int64_t base = 1700000000000;
  auto started = std::chrono::steady_clock::now();
  for (long i = 0; i < o.events; ++i) {
    if (o.rate > 0) {
      auto due = started + std::chrono::microseconds(static_cast<long>(i * 1e6 / o.rate));
      std::this_thread::sleep_until(due);
    }
    // Versions grow with i, so most writes land (a live stream, not a replay of stale data).
    std::int64_t version = base + i;
    std::int64_t ts = o.rate > 0 ? now_ms() : version;
    std::string id_tag = o.prefix + std::to_string(o.seed) + "_";
    double r = unit(rng);
    std::string type, key, data;
    if (r < 0.42) {
      long n = pick(o.users);
      std::string id = "user_" + id_tag + std::to_string(n);
      type = unit(rng) < 0.3 ? "user.created" : "user.updated";
      key = id;
      data = worker_test::user_data(id, version, "First" + std::to_string(i % 997),
                                    "person" + std::to_string(n) + "@example.org");
    } else if (r < 0.50) {
      std::string id = "org_" + id_tag + std::to_string(pick(o.organizations));
      type = unit(rng) < 0.3 ? "organization.created" : "organization.updated";
      key = id;
      data = worker_test::organization_data(id, version, "Org " + std::to_string(i % 991));
    } else if (r < 0.92) {
      long m = pick(o.memberships);
      std::string id = "orgmem_" + id_tag + std::to_string(m);
      std::string org = "org_" + id_tag + std::to_string(m % o.organizations);
      std::string user = "user_" + id_tag + std::to_string((m * 7919) % o.users);
      type = unit(rng) < 0.4 ? "organizationMembership.created" : "organizationMembership.updated";
      key = org;
      data = worker_test::membership_data(id, org, user, version,
                                          unit(rng) < 0.2 ? "org:admin" : "org:member");
    } else if (r < 0.96) {
      long m = pick(o.memberships);
      std::string id = "orgmem_" + id_tag + std::to_string(m);
      std::string org = "org_" + id_tag + std::to_string(m % o.organizations);
      std::string user = "user_" + id_tag + std::to_string((m * 7919) % o.users);
      type = "organizationMembership.deleted";
      key = org;
      data = worker_test::membership_data(id, org, user, version, "org:member");
    } else if (r < 0.99) {
      std::string id = "user_" + id_tag + std::to_string(pick(o.users));
      type = "user.deleted";
      key = id;
      data = worker_test::deleted_data(id, "user");
    } else {
      std::string id = "org_" + id_tag + std::to_string(pick(o.organizations));
      type = "organization.deleted";
      key = id;
      data = worker_test::deleted_data(id, "organization");
    }
    common::kafka::OutgoingRecord record{o.topic,
                                         key,
                                         worker_test::envelope(type, data, ts),
                                         {{"event-id", "msg_" + id_tag + std::to_string(i)},
                                          {"event-type", type},
                                          {"event-timestamp", std::to_string(ts)},
                                          {"source", "webhook"},
                                          {"received-at", std::to_string(ts)}},
                                         {},
                                         0};
    while (producer.produce(record, [&failed](const common::kafka::DeliveryReport& report) {
      if (!report.persisted) ++failed;
    }) == common::kafka::EnqueueResult::kQueueFull) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  producer.flush(std::chrono::seconds(300));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("published=%ld failed=%ld seconds=%.2f rate=%.0f\n", o.events, failed.load(), seconds,
              static_cast<double>(o.events) / seconds);
  return failed.load() == 0 ? 0 : 1;
}
