#include "common/kafka/kafka_client_config.hpp"

#include <librdkafka/rdkafka.h>

#include "common/kafka/kafka_error.hpp"
#include "common/logging/logger.hpp"

namespace common::kafka {

void ConfDeleter::operator()(rd_kafka_conf_s* conf) const {
  rd_kafka_conf_destroy(conf);
}
void HandleDeleter::operator()(rd_kafka_s* handle) const {
  rd_kafka_destroy(handle);
}

ConfPtr make_conf(const Properties& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      throw KafkaError("kafka property " + name + ": " + errstr);
    }
  }
  return conf;
}

HandlePtr make_handle(ConfPtr conf, bool producer) {
  char errstr[512];
  rd_kafka_t* handle = rd_kafka_new(producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf.get(),
                                    errstr, sizeof errstr);
  if (handle == nullptr) throw KafkaError(std::string("cannot create kafka client: ") + errstr);
  conf.release();  // rd_kafka_new took ownership
  return HandlePtr(handle);
}

namespace {

void log_bridge(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto* context = static_cast<ClientContext*>(rd_kafka_opaque(rk));
  if (context == nullptr || context->logger == nullptr) return;
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug
  logging::Level mapped = level <= 3   ? logging::Level::kError
                          : level == 4 ? logging::Level::kWarn
                          : level <= 6 ? logging::Level::kInfo
                                       : logging::Level::kDebug;
  context->logger->log(mapped, "librdkafka", {{"facility", facility}, {"detail", message}});
}

void error_bridge(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* context = static_cast<ClientContext*>(opaque);
  if (context == nullptr) return;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    context->fatal.store(true);
    char detail[512];
    rd_kafka_fatal_error(rk, detail, sizeof detail);
    if (context->logger) context->logger->error("kafka fatal error", {{"detail", detail}});
    return;
  }
  if (context->logger) {
    context->logger->warn(
        "kafka client error",
        {{"code", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))}, {"detail", reason}});
  }
}

}  // namespace

void install_client_callbacks(rd_kafka_conf_s* conf, ClientContext* context) {
  rd_kafka_conf_set_log_cb(conf, log_bridge);
  rd_kafka_conf_set_error_cb(conf, error_bridge);
  rd_kafka_conf_set_opaque(conf, context);
}

Properties base_properties(const std::string& brokers, const std::string& client_id) {
  return {
      {"bootstrap.servers", brokers},
      {"client.id", client_id},
      {"log_level", "4"},
      {"socket.keepalive.enable", "true"},
  };
}

}  // namespace common::kafka
