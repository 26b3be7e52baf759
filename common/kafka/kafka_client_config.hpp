#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <string>

struct rd_kafka_conf_s;
struct rd_kafka_s;

namespace common::logging {
class Logger;
}

namespace common::kafka {

struct ConfDeleter {
  void operator()(rd_kafka_conf_s* conf) const;
};
struct HandleDeleter {
  void operator()(rd_kafka_s* handle) const;  ///< translates into rd_kafka_destroy
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_s, ConfDeleter>;
using HandlePtr = std::unique_ptr<rd_kafka_s, HandleDeleter>;

/// librdkafka properties as strings ("bootstrap.servers" -> "127.0.0.1:9092").
using Properties = std::map<std::string, std::string>;

/// Builds a configuration; throws KafkaError naming the property on a bad value
/// (translates into rd_kafka_conf_set).
ConfPtr make_conf(const Properties& properties);

/// Creates a producer or consumer handle from `conf` (ownership taken);
/// throws KafkaError (translates into rd_kafka_new).
HandlePtr make_handle(ConfPtr conf, bool producer);

/// What a client's librdkafka callbacks reach through the handle's opaque: the
/// logger for librdkafka's own log lines and errors, and the fatal-error flag.
/// Owned by the client object; must outlive the handle.
struct ClientContext {
  logging::Logger* logger = nullptr;
  std::atomic<bool> fatal{false};
};

/// Routes librdkafka logs and client errors into `context` (translates into
/// rd_kafka_conf_set_log_cb, rd_kafka_conf_set_error_cb, rd_kafka_conf_set_opaque).
void install_client_callbacks(rd_kafka_conf_s* conf, ClientContext* context);

/// Properties every client shares: brokers, client id, log level.
Properties base_properties(const std::string& brokers, const std::string& client_id);

}  // namespace common::kafka
