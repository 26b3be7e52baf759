// kafka_floor: the Kafka half of the ingress's latency, without HTTP (benchmark
// tooling, not part of any product binary). Produces ~2 KB records at a fixed rate
// with the ingress's producer settings (acks=all, idempotence, lz4, linger 5 ms,
// keys spread over 5000 entities) and measures each record from its scheduled time
// to its delivery report, as one `key=value` line like ingress_load's. Run by
// ops/bench/ingress at the same rate as the half-rate run: its p99 is the latency the
// broker and librdkafka alone add on this machine, the floor under the ingress's.
//
// Built by ops/bench/ingress with: g++ -O2 -std=c++20 kafka_floor.cpp -lrdkafka -pthread
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string brokers;
  std::string topic;
  int rate = 0;
  double seconds = 10;
  double warmup = 2;
  int linger_ms = 5;
  std::size_t body_bytes = 2000;
  std::string label = "kafka-floor";
};

/// Delivery latencies (µs) of the measured records; written by the poll thread.
struct Tally {
  std::mutex mutex;
  std::vector<std::uint32_t> latencies_us;
  long failed = 0;
};

struct Pending {
  Clock::time_point due;
  bool measured;
  Tally* tally;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* pending = static_cast<Pending*>(message->_private);
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - pending->due);
  {
    std::lock_guard lock(pending->tally->mutex);
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++pending->tally->failed;
    } else if (pending->measured) {
      pending->tally->latencies_us.push_back(static_cast<std::uint32_t>(elapsed.count()));
    }
  }
  delete pending;
}

[[noreturn]] void usage(int status) {
  std::fprintf(status == 0 ? stdout : stderr,
               "usage: kafka_floor --brokers HOST:PORT --topic T --rate R [--duration S]\n"
               "  [--warmup S] [--linger-ms L] [--body-bytes B] [--label L]\n");
  std::exit(status);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") usage(0);
    if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
    std::string value = argv[++i];
    auto number = [&] {
      std::size_t used = 0;
      double parsed = 0;
      try {
        parsed = std::stod(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value.size()) throw std::invalid_argument(arg + " is not a number: " + value);
      return parsed;
    };
    if (arg == "--brokers")
      o.brokers = value;
    else if (arg == "--topic")
      o.topic = value;
    else if (arg == "--rate")
      o.rate = static_cast<int>(number());
    else if (arg == "--duration")
      o.seconds = number();
    else if (arg == "--warmup")
      o.warmup = number();
    else if (arg == "--linger-ms")
      o.linger_ms = static_cast<int>(number());
    else if (arg == "--body-bytes")
      o.body_bytes = static_cast<std::size_t>(number());
    else if (arg == "--label")
      o.label = value;
    else
      throw std::invalid_argument("unknown option " + arg);
  }
  if (o.brokers.empty() || o.topic.empty() || o.rate <= 0 || o.seconds <= 0 || o.warmup < 0) {
    throw std::invalid_argument("--brokers, --topic and a positive --rate are required");
  }
  return o;
}

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t at = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(at, sorted.size() - 1)] / 1000.0;
}

rd_kafka_t* make_producer(const Options& o) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::string linger = std::to_string(o.linger_ms);
  const std::pair<const char*, const char*> settings[] = {
      {"bootstrap.servers", o.brokers.c_str()},
      {"acks", "all"},
      {"enable.idempotence", "true"},
      {"compression.type", "lz4"},
      {"linger.ms", linger.c_str()},
      {"queue.buffering.max.messages", "1000000"},
  };
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(std::string(name) + ": " + error);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (producer == nullptr) throw std::runtime_error(error);
  return producer;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kafka_floor: bad arguments: %s (try --help)\n", e.what());
    return 2;
  }
  rd_kafka_t* producer = nullptr;
  try {
    producer = make_producer(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kafka_floor: cannot create the producer: %s\n", e.what());
    return 1;
  }
  // Like the ingress: a thread serves the delivery reports.
  std::atomic<bool> running{true};
  std::thread poller([&] {
    while (running.load())
      rd_kafka_poll(producer, 100);
  });

  // A Clerk-like body (letters, so lz4 finds about what it finds in JSON).
  std::string body(o.body_bytes, 'a');
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>('a' + (i * 7919 + i / 13) % 26);

  Tally tally;
  const auto total = static_cast<long>(static_cast<double>(o.rate) * (o.warmup + o.seconds) + 0.5);
  const auto measured_from = static_cast<long>(static_cast<double>(o.rate) * o.warmup + 0.5);
  const auto start = Clock::now();
  const auto due_of = [&](long n) {
    return start + std::chrono::microseconds(n * 1'000'000L / o.rate);
  };
  long enqueue_failures = 0;
  for (long n = 0; n < total;) {
    std::this_thread::sleep_until(due_of(n));
    for (auto now = Clock::now(); n < total && due_of(n) <= now; ++n) {
      std::string key = "user_" + std::to_string(n % 5000);
      auto* pending = new Pending{due_of(n), n >= measured_from, &tally};
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(body.data(), body.size()), RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_OPAQUE(pending), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        delete pending;
        ++enqueue_failures;
      }
    }
  }
  const double sent_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const bool flushed = rd_kafka_flush(producer, 15000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  running.store(false);
  poller.join();
  rd_kafka_destroy(producer);

  std::lock_guard lock(tally.mutex);
  auto& all = tally.latencies_us;
  std::sort(all.begin(), all.end());
  const auto over_10ms = std::count_if(all.begin(), all.end(), [](auto us) { return us > 10000; });
  std::printf(
      "label=%s rate=%d seconds=%.1f acknowledged=%zu failed=%ld not_enqueued=%ld "
      "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f over_10ms_pct=%.2f "
      "sent_seconds=%.1f\n",
      o.label.c_str(), o.rate, o.seconds, all.size(), tally.failed, enqueue_failures,
      percentile(all, 0.50), percentile(all, 0.90), percentile(all, 0.99), percentile(all, 0.999),
      all.empty() ? 0.0 : all.back() / 1000.0,
      all.empty() ? 0.0 : 100.0 * static_cast<double>(over_10ms) / static_cast<double>(all.size()),
      sent_seconds);
  return flushed && tally.failed == 0 && enqueue_failures == 0 ? 0 : 1;
}
