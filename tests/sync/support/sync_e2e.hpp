#pragma once
#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/logging/logger.hpp"
#include "fake_clerk_api.hpp"
#include "support/child_process.hpp"
#include "support/test_env.hpp"
#include "worker/support/scratch_database.hpp"

/// What the sync e2e tests need around the real binaries: a database and a
/// topic of their own, child processes, webhooks played straight into the
/// topic (as the ingress would publish them), and the mirror read back.
namespace sync_test {

/// A database for one test (the contract fixes schema `clerk`), dropped at the end.
using ScratchDatabase = worker_test::ScratchDatabase;

inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds every = std::chrono::milliseconds(200)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

/// One test's stack: fake API, database, topic; binaries get env().
class SyncStack {
 public:
  SyncStack()
      : logger_("test", common::logging::Level::kError),
        brokers_(test_support::require_env("KAFKA_BROKERS")),
        topic_(test_support::unique_name("sync_e2e")) {
    common::kafka::KafkaAdmin admin(brokers_, logger_);
    admin.create_topics(common::kafka::pipeline_topics(topic_, 3, 3), std::chrono::seconds(20));
  }
  ~SyncStack() { stop_worker(); }

  FakeClerkApi& api() { return api_; }
  const std::string& topic() const { return topic_; }
  const std::string& database_url() const { return db_.url(); }

  std::map<std::string, std::string> env() const {
    return {{"KAFKA_BROKERS", brokers_},
            {"KAFKA_TOPIC", topic_},
            {"DATABASE_URL", db_.url()},
            {"CLERK_SECRET_KEY", api_.secret_key()},
            {"CLERK_API_URL", api_.url()},
            {"CLERK_API_RATE", "1000"},
            {"CLERK_API_PAGE_SIZE", "100"},
            {"CLERK_API_BACKOFF_INITIAL_MS", "50"},
            {"SYNC_PROGRESS_INTERVAL_MS", "1000"},
            {"ADMIN_LISTEN", "127.0.0.1:0"},
            {"WORKER_GROUP_ID", topic_ + "_worker"},
            {"WORKER_BATCH_MAX_WAIT_MS", "20"},
            {"LOG_LEVEL", "info"}};
  }
  /// `clerk-mirror <args>` run to its end with env() and `extra`.
  test_support::Finished clerk_mirror(std::vector<std::string> args,
                                      std::map<std::string, std::string> extra = {}) const {
    return test_support::run(spec(std::move(args), std::move(extra)));
  }
  /// `clerk-mirror <args>` started with env() and `extra`; out() and err() apart.
  std::unique_ptr<test_support::ChildProcess> start(
      std::vector<std::string> args, std::map<std::string, std::string> extra = {}) const {
    return std::make_unique<test_support::ChildProcess>(spec(std::move(args), std::move(extra)));
  }
  /// Starts `clerk-mirror worker` (env() and `extra`) and waits for its migrations.
  void start_worker(std::map<std::string, std::string> extra = {}) {
    worker_ = start({"worker"}, std::move(extra));
    bool ready = wait_until(
        [&] {
          if (!worker_->running()) return true;
          pqxx::connection c(db_.url());
          pqxx::work tx(c);
          return tx.exec("select to_regclass('clerk.sync_runs') is not null")[0][0].as<bool>();
        },
        std::chrono::seconds(30));
    if (!ready || !worker_->running())
      throw std::runtime_error("worker did not start: " + worker_->err());
  }
  /// SIGTERM, SIGKILL after 30 s; the worker's exit code (-1 when none ran).
  int stop_worker() {
    if (!worker_) return -1;
    worker_->signal(SIGTERM);
    if (!worker_->wait_for(std::chrono::seconds(30))) worker_->signal(SIGKILL);
    int code = worker_->wait();
    worker_.reset();
    return code;
  }
  std::string worker_log() const { return worker_ ? worker_->err() : ""; }

  /// Publishes a webhook envelope as the ingress would (source webhook).
  void publish_webhook(const std::string& type, const std::string& key, const std::string& body,
                       std::int64_t timestamp_ms, const std::string& event_id) {
    if (!producer_)
      producer_ = std::make_unique<common::kafka::KafkaProducer>(
          common::kafka::ProducerSettings{brokers_}, logger_);
    auto report = producer_->produce_sync({topic_,
                                           key,
                                           body,
                                           {{"event-id", event_id},
                                            {"event-type", type},
                                            {"event-timestamp", std::to_string(timestamp_ms)},
                                            {"source", "webhook"},
                                            {"received-at", std::to_string(timestamp_ms)}},
                                           {},
                                           0});
    if (!report.persisted) throw std::runtime_error("webhook not persisted: " + report.error);
  }

  /// Publishes many webhooks at once and waits for every acknowledgement.
  template <typename Webhooks>
  void publish_webhooks(const Webhooks& webhooks) {
    if (!producer_)
      producer_ = std::make_unique<common::kafka::KafkaProducer>(
          common::kafka::ProducerSettings{brokers_}, logger_);
    auto failures = std::make_shared<std::atomic<int>>(0);
    for (const auto& w : webhooks) {
      common::kafka::OutgoingRecord record{topic_,
                                           w.key,
                                           w.body,
                                           {{"event-id", w.id},
                                            {"event-type", w.type},
                                            {"event-timestamp", std::to_string(w.timestamp)},
                                            {"source", "webhook"},
                                            {"received-at", std::to_string(w.timestamp)}},
                                           {},
                                           0};
      auto queued = producer_->produce(record, [failures](const common::kafka::DeliveryReport& r) {
        if (!r.persisted) ++*failures;
      });
      if (queued != common::kafka::EnqueueResult::kQueued)
        throw std::runtime_error("webhook not queued");
    }
    if (!producer_->flush(std::chrono::seconds(30)) || failures->load() > 0)
      throw std::runtime_error("webhooks not persisted");
  }

  /// Rows the worker wrote to its audit trail (one per consumed record).
  std::int64_t applied_events() const {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    return tx.exec("select count(*) from clerk.applied_events")[0][0].as<std::int64_t>();
  }

  /// Every record of the main topic so far, as (source header, key, value).
  struct Record {
    std::string source;
    std::string type;
    std::string key;
    std::string value;
  };
  std::vector<Record> topic_records(std::size_t at_least) {
    common::kafka::KafkaConsumer consumer({brokers_, test_support::unique_name("reader")}, logger_);
    consumer.subscribe({topic_});
    std::vector<Record> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto quiet_since = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = consumer.poll(std::chrono::milliseconds(200));
      if (!r) {
        if (out.size() >= at_least &&
            std::chrono::steady_clock::now() - quiet_since > std::chrono::seconds(2))
          break;
        continue;
      }
      quiet_since = std::chrono::steady_clock::now();
      auto header = [&](std::string_view name) {
        const auto* h = common::kafka::find_header(r->headers, name);
        return h ? h->value : std::string();
      };
      out.push_back({header("source"), header("event-type"), r->key.value_or(""), r->value});
    }
    consumer.close();
    return out;
  }

 private:
  /// `clerk-mirror <args>` with the inherited environment, env() and `extra`.
  test_support::ChildSpec spec(std::vector<std::string> args,
                               std::map<std::string, std::string> extra) const {
    auto e = env();
    for (auto& [k, v] : extra)
      e[k] = v;
    args.insert(args.begin(), test_support::binary("clerk-mirror"));
    return {.argv = std::move(args), .env = std::move(e)};
  }

  common::logging::Logger logger_;
  std::string brokers_;
  std::string topic_;
  ScratchDatabase db_;
  FakeClerkApi api_;
  std::unique_ptr<test_support::ChildProcess> worker_;
  std::unique_ptr<common::kafka::KafkaProducer> producer_;
};

/// Differences between the mirror's alive rows and the fake API's entities
/// (empty when the tables equal the source), at most `max` lines.
inline std::vector<std::string> mirror_differences(const std::string& database_url,
                                                   const FakeClerkData& data,
                                                   std::size_t max = 20) {
  std::vector<std::string> diffs;
  auto add = [&](std::string line) {
    if (diffs.size() < max) diffs.push_back(std::move(line));
  };
  pqxx::connection c(database_url);
  pqxx::work tx(c);
  auto ms = [](const char* column) {
    return std::string("coalesce((extract(epoch from ") + column + ") * 1000)::bigint, -1)";
  };
  std::map<std::string, pqxx::row> users, orgs, members;
  for (const auto& row : tx.exec("select id, first_name, last_name, username, image_url, "
                                 "coalesce(external_id, ''), primary_email_address, "
                                 "public_metadata->>'plan', " +
                                 ms("created_at") + ", " + ms("updated_at") +
                                 " from clerk.users where deleted_at is null"))
    users.emplace(row[0].as<std::string>(), row);
  for (const auto& row :
       tx.exec("select id, name, slug, " + ms("created_at") + ", " + ms("updated_at") +
               " from clerk.organizations where deleted_at is null"))
    orgs.emplace(row[0].as<std::string>(), row);
  for (const auto& row :
       tx.exec("select id, organization_id, user_id, role, " + ms("created_at") + ", " +
               ms("updated_at") + " from clerk.organization_memberships where deleted_at is null"))
    members.emplace(row[0].as<std::string>(), row);

  for (const auto& u : data.users()) {
    auto it = users.find(u.id);
    if (it == users.end()) {
      add("user " + u.id + " missing");
      continue;
    }
    const pqxx::row& r = it->second;
    std::string got = r[1].c_str() + std::string("|") + r[2].c_str() + "|" + r[3].c_str() + "|" +
                      r[4].c_str() + "|" + r[5].c_str() + "|" + r[6].c_str() + "|" + r[7].c_str() +
                      "|" + r[8].c_str() + "|" + r[9].c_str();
    std::string want = u.first_name + "|" + u.last_name + "|" + u.username + "|" +
                       "https://img.clerk.com/" + u.id + "|" + u.external_id + "|" + u.email + "|" +
                       u.plan + "|" + std::to_string(u.created_at) + "|" +
                       std::to_string(u.updated_at);
    if (got != want) add("user " + u.id + " is " + got + ", want " + want);
    users.erase(it);
  }
  for (const auto& [id, r] : users)
    add("user " + id + " alive in the mirror only");
  for (const auto& o : data.organizations()) {
    auto it = orgs.find(o.id);
    if (it == orgs.end()) {
      add("organization " + o.id + " missing");
      continue;
    }
    const pqxx::row& r = it->second;
    std::string got =
        r[1].c_str() + std::string("|") + r[2].c_str() + "|" + r[3].c_str() + "|" + r[4].c_str();
    std::string want = o.name + "|" + o.slug + "|" + std::to_string(o.created_at) + "|" +
                       std::to_string(o.updated_at);
    if (got != want) add("organization " + o.id + " is " + got + ", want " + want);
    orgs.erase(it);
  }
  for (const auto& [id, r] : orgs)
    add("organization " + id + " alive in the mirror only");
  for (const auto& m : data.memberships()) {
    auto it = members.find(m.id);
    if (it == members.end()) {
      add("membership " + m.id + " missing");
      continue;
    }
    const pqxx::row& r = it->second;
    std::string got = r[1].c_str() + std::string("|") + r[2].c_str() + "|" + r[3].c_str() + "|" +
                      r[4].c_str() + "|" + r[5].c_str();
    std::string want = m.organization_id + "|" + m.user_id + "|" + m.role + "|" +
                       std::to_string(m.created_at) + "|" + std::to_string(m.updated_at);
    if (got != want) add("membership " + m.id + " is " + got + ", want " + want);
    members.erase(it);
  }
  for (const auto& [id, r] : members)
    add("membership " + id + " alive in the mirror only");
  return diffs;
}

}  // namespace sync_test
