#pragma once
#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/logging/logger.hpp"
#include "support/child_process.hpp"
#include "support/test_env.hpp"
#include "worker/support/mirror_model.hpp"

/// What the end-to-end worker tests share: a topic family of their own, a
/// producer of histories, `clerk-mirror worker` processes, and waiting for the
/// database to catch up.
namespace worker_test {

inline common::logging::Logger& quiet_logger() {
  static common::logging::Logger logger("test", common::logging::Level::kError);
  return logger;
}

/// Main, retry and dead-letter topics unique to one test.
struct TopicFamily {
  TopicFamily(const std::string& brokers, int partitions, int retry_levels)
      : name(test_support::unique_name("cmw.events")), partitions(partitions) {
    common::kafka::KafkaAdmin admin(brokers, quiet_logger());
    admin.create_topics(common::kafka::pipeline_topics(name, partitions, retry_levels),
                        std::chrono::seconds(30));
  }
  std::string name;
  int partitions;
};

/// Publishes events as the ingress would: key, value and contract headers.
inline void produce(common::kafka::KafkaProducer& producer, const std::string& topic,
                    const std::vector<HistoryEvent>& events) {
  std::atomic<int> failed{0};
  for (const auto& e : events) {
    common::kafka::OutgoingRecord r{topic,
                                    e.key,
                                    e.json,
                                    {{"event-id", e.event_id},
                                     {"event-type", e.type},
                                     {"event-timestamp", std::to_string(e.timestamp)},
                                     {"source", "webhook"},
                                     {"received-at", std::to_string(e.timestamp)}},
                                    {},
                                    0};
    while (producer.produce(r, [&failed](const common::kafka::DeliveryReport& report) {
      if (!report.persisted) ++failed;
    }) == common::kafka::EnqueueResult::kQueueFull) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (!producer.flush(std::chrono::seconds(60)) || failed.load() != 0) {
    throw std::runtime_error("producing the history failed");
  }
}

/// Every record of `topic` (all partitions, from the beginning), read until the
/// topic has been quiet for `quiet`.
inline std::vector<common::kafka::ConsumedRecord> read_topic(
    const std::string& brokers, const std::string& topic, int partitions,
    std::chrono::milliseconds quiet = std::chrono::milliseconds(1500)) {
  common::kafka::KafkaConsumer consumer({brokers, test_support::unique_name("reader")},
                                        quiet_logger());
  std::vector<common::kafka::TopicPartition> all;
  for (int p = 0; p < partitions; ++p)
    all.push_back({topic, p, -2});
  consumer.assign(all);
  std::vector<common::kafka::ConsumedRecord> out;
  auto last = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - last < quiet) {
    if (auto r = consumer.poll(std::chrono::milliseconds(100))) {
      out.push_back(std::move(*r));
      last = std::chrono::steady_clock::now();
    }
  }
  consumer.close();
  return out;
}

/// How the worker suites start a process: the inherited environment plus `env`,
/// stdout and stderr appended to `log_path`, in a process group of its own.
inline test_support::ChildSpec logged(std::vector<std::string> argv,
                                      std::map<std::string, std::string> env,
                                      std::string log_path) {
  return {.argv = std::move(argv),
          .env = std::move(env),
          .out_path = std::move(log_path),
          .err_to_out = true,
          .append = true,
          .own_process_group = true};
}

/// `clerk-mirror worker` as a child process, restartable.
class WorkerProcess {
 public:
  WorkerProcess(std::map<std::string, std::string> env, std::string log_path)
      : env_(std::move(env)), log_path_(std::move(log_path)) {
    start();
  }
  void start() {
    child_ = std::make_unique<test_support::ChildProcess>(
        logged({test_support::binary("clerk-mirror"), "worker"}, env_, log_path_));
  }
  void kill9() {
    child_->signal(SIGKILL);
    child_->wait();
  }
  /// SIGTERM and wait; returns the exit code.
  int stop() {
    child_->signal(SIGTERM);
    if (!child_->wait_for(std::chrono::seconds(30))) child_->signal(SIGKILL);
    return child_->wait();
  }
  bool running() { return child_->running(); }
  const std::string& log_path() const { return log_path_; }

 private:
  std::map<std::string, std::string> env_;
  std::string log_path_;
  std::unique_ptr<test_support::ChildProcess> child_;
};

/// GET `url`; {status, body}; status 0 when nothing answered.
inline std::pair<long, std::string> http_get(const std::string& url) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t n, void* out) {
        static_cast<std::string*>(out)->append(data, size * n);
        return size * n;
      });
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  return {status, body};
}

/// The ops port a worker started with ADMIN_LISTEN=127.0.0.1:0 logged; 0 if not yet.
inline int ops_port(const std::string& log_path) {
  std::ifstream in(log_path);
  std::string line;
  int port = 0;
  static const std::regex listening(R"("msg":"ops endpoints listening".*"port":([0-9]+))");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, listening)) port = std::stoi(m[1]);
  }
  return port;
}

inline std::string log_file(const std::string& name) {
  std::filesystem::create_directories("/tmp/clerk-mirror-tests");
  return "/tmp/clerk-mirror-tests/" + test_support::unique_name(name) + ".log";
}

/// The environment of a test worker: fast retries, short batches and session.
inline std::map<std::string, std::string> worker_env(const std::string& brokers,
                                                     const std::string& topic,
                                                     const std::string& database_url,
                                                     const std::string& group) {
  return {{"KAFKA_BROKERS", brokers},
          {"KAFKA_TOPIC", topic},
          {"DATABASE_URL", database_url},
          {"ADMIN_LISTEN", "127.0.0.1:0"},
          {"WORKER_GROUP_ID", group},
          {"WORKER_RETRY_DELAYS_MS", "300,600"},
          {"WORKER_BACKOFF_INITIAL_MS", "50"},
          {"WORKER_BACKOFF_MAX_MS", "1000"},
          {"WORKER_BATCH_MAX_WAIT_MS", "20"},
          {"WORKER_SESSION_TIMEOUT_MS", "6000"},
          {"LOG_LEVEL", "info"}};
}

inline std::int64_t scalar(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection conn(url);
    pqxx::read_transaction tx(conn);
    auto row = tx.exec1(sql);
    return row[0].is_null() ? 0 : row[0].as<std::int64_t>();
  } catch (const std::exception&) {
    return -1;  // not reachable (yet), or the schema is not there yet
  }
}

/// Polls `done` every 100 ms until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

/// A header's value, "<none>" when the record lacks it.
inline std::string header(const common::kafka::ConsumedRecord& r, const char* name) {
  const auto* h = common::kafka::find_header(r.headers, name);
  return h ? h->value : "<none>";
}

/// A `user.updated` of `id` at `version` (also its event timestamp), named `name`.
inline HistoryEvent user_event(const std::string& id, const std::string& event_id,
                               std::int64_t version, const std::string& name) {
  HistoryEvent e;
  e.event_id = event_id;
  e.type = "user.updated";
  e.entity_id = e.key = id;
  e.timestamp = version;
  e.json = envelope(e.type, user_data(id, version, name), version);
  return e;
}

/// Number of audit rows: one per consumed record once everything is applied.
inline std::int64_t audited(const std::string& url) {
  return scalar(url, "select count(*) from clerk.applied_events");
}

}  // namespace worker_test
