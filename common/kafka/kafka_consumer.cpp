#include "common/kafka/kafka_consumer.hpp"

#include <librdkafka/rdkafka.h>

#include <memory>

#include "common/kafka/kafka_error.hpp"
#include "common/logging/logger.hpp"

namespace common::kafka {
namespace {

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using ListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

ListPtr to_list(const std::vector<TopicPartition>& partitions) {
  ListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
        tp.offset;
  }
  return list;
}

std::vector<TopicPartition> from_list(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (list == nullptr) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
  }
  return out;
}

void check(rd_kafka_resp_err_t err, const std::string& what) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(what + ": " + rd_kafka_err2str(err), err, err == RD_KAFKA_RESP_ERR__FATAL);
  }
}

}  // namespace

KafkaConsumer::KafkaConsumer(const ConsumerSettings& settings, logging::Logger& logger,
                             RebalanceListener* listener)
    : listener_(listener) {
  context_.logger = &logger;
  context_.consumer = this;
  Properties props = base_properties(settings.brokers, settings.client_id);
  props["group.id"] = settings.group_id;
  props["enable.auto.commit"] = "false";
  props["enable.auto.offset.store"] = "false";
  props["auto.offset.reset"] = settings.auto_offset_reset;
  props["enable.partition.eof"] = "false";
  props["partition.assignment.strategy"] = "range,roundrobin";
  for (const auto& [k, v] : settings.extra)
    props[k] = v;
  ConfPtr conf = make_conf(props);
  install_client_callbacks(conf.get(), &context_);
  // The handle's opaque is context_, which also points back at this consumer.
  rd_kafka_conf_set_rebalance_cb(
      conf.get(),
      [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
         void* opaque) { on_rebalance(rk, err, partitions, opaque); });
  handle_ = make_handle(std::move(conf), false);
  rd_kafka_poll_set_consumer(handle_.get());
}

KafkaConsumer::~KafkaConsumer() {
  try {
    close();
  } catch (const std::exception& e) {
    if (context_.logger)
      context_.logger->warn("kafka consumer close failed", {{"error", e.what()}});
  }
}

void KafkaConsumer::on_rebalance(rd_kafka_s* rk, int err, void* raw_partitions, void* opaque) {
  auto* self = static_cast<ConsumerContext*>(static_cast<ClientContext*>(opaque))->consumer;
  auto* partitions = static_cast<rd_kafka_topic_partition_list_t*>(raw_partitions);
  auto parts = from_list(partitions);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (self->listener_ != nullptr) {
      Assignment assignment = self->listener_->on_assigned(parts);
      ListPtr list = to_list(assignment.positions);
      if (!assignment.paused) {
        rd_kafka_assign(rk, list.get());
        return;
      }
      // Paused before the assignment, so that its fetch start finds them paused: a
      // pause racing a fetch start that is still pending (behind an offset commit in
      // flight) can leave a partition that no later seek starts. A partition the
      // client does not know yet refuses that pause and is paused once assigned.
      ListPtr paused = to_list(assignment.positions);  // its error fields get set
      rd_kafka_pause_partitions(rk, paused.get());
      ListPtr refused = to_list({});
      for (int i = 0; i < paused->cnt; ++i) {
        const rd_kafka_topic_partition_t& tp = paused->elems[i];
        if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR)
          rd_kafka_topic_partition_list_add(refused.get(), tp.topic, tp.partition);
      }
      rd_kafka_assign(rk, list.get());
      if (refused->cnt > 0) rd_kafka_pause_partitions(rk, refused.get());
    } else {
      rd_kafka_assign(rk, partitions);
    }
  } else {
    if (self->listener_ != nullptr) self->listener_->on_revoked(parts);
    rd_kafka_assign(rk, nullptr);
  }
}

void KafkaConsumer::subscribe(const std::vector<std::string>& topics) {
  std::vector<TopicPartition> parts;
  for (const auto& t : topics)
    parts.push_back({t, RD_KAFKA_PARTITION_UA});
  check(rd_kafka_subscribe(handle_.get(), to_list(parts).get()), "subscribe");
}

void KafkaConsumer::assign(const std::vector<TopicPartition>& partitions) {
  check(rd_kafka_assign(handle_.get(), to_list(partitions).get()), "assign");
}

std::optional<ConsumedRecord> KafkaConsumer::poll(std::chrono::milliseconds timeout) {
  rd_kafka_message_t* m = rd_kafka_consumer_poll(handle_.get(), static_cast<int>(timeout.count()));
  if (m == nullptr) return std::nullopt;
  std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(
      m, rd_kafka_message_destroy);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::nullopt;
    if (m->err == RD_KAFKA_RESP_ERR__FATAL || context_.fatal.load()) {
      throw KafkaError(std::string("kafka consumer fatal: ") + rd_kafka_message_errstr(m), m->err,
                       true);
    }
    if (context_.logger) {
      context_.logger->warn("kafka consume error", {{"code", rd_kafka_err2name(m->err)},
                                                    {"detail", rd_kafka_message_errstr(m)}});
    }
    return std::nullopt;
  }
  ConsumedRecord record;
  record.topic = rd_kafka_topic_name(m->rkt);
  record.partition = m->partition;
  record.offset = m->offset;
  if (m->key != nullptr) record.key.emplace(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr) record.value.assign(static_cast<const char*>(m->payload), m->len);
  rd_kafka_timestamp_type_t ts_type;
  record.timestamp_ms = rd_kafka_message_timestamp(m, &ts_type);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record.headers.push_back(
          {name, value ? std::string(static_cast<const char*>(value), size) : std::string()});
    }
  }
  return record;
}

void KafkaConsumer::seek(const std::vector<TopicPartition>& positions,
                         std::chrono::milliseconds timeout) {
  ListPtr list = to_list(positions);
  rd_kafka_error_t* error =
      rd_kafka_seek_partitions(handle_.get(), list.get(), static_cast<int>(timeout.count()));
  if (error != nullptr) {
    std::string what = std::string("seek: ") + rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    throw KafkaError(what);
  }
  for (int i = 0; i < list->cnt; ++i) {
    check(list->elems[i].err, "seek " + std::string(list->elems[i].topic));
  }
}

void KafkaConsumer::pause(const std::vector<TopicPartition>& partitions) {
  check(rd_kafka_pause_partitions(handle_.get(), to_list(partitions).get()), "pause");
}

void KafkaConsumer::resume(const std::vector<TopicPartition>& partitions) {
  check(rd_kafka_resume_partitions(handle_.get(), to_list(partitions).get()), "resume");
}

void KafkaConsumer::commit_async(const std::vector<TopicPartition>& offsets) {
  if (offsets.empty()) return;
  rd_kafka_resp_err_t err = rd_kafka_commit(handle_.get(), to_list(offsets).get(), 1);
  // A commit during a rebalance can be refused; the database holds the truth.
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && context_.logger) {
    context_.logger->debug("kafka async commit refused", {{"code", rd_kafka_err2name(err)}});
  }
}

std::vector<TopicPartition> KafkaConsumer::assignment() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  check(rd_kafka_assignment(handle_.get(), &raw), "assignment");
  ListPtr list(raw);
  return from_list(list.get());
}

void KafkaConsumer::close() {
  if (closed_) return;
  closed_ = true;
  check(rd_kafka_consumer_close(handle_.get()), "consumer close");
}

bool KafkaConsumer::ping(std::chrono::milliseconds timeout) const {
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(handle_.get(), 0, nullptr, &metadata, static_cast<int>(timeout.count())) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;
  }
  bool ok = metadata->broker_cnt > 0;
  rd_kafka_metadata_destroy(metadata);
  return ok;
}

std::int64_t KafkaConsumer::lag(
    std::vector<std::pair<TopicPartition, std::int64_t>>* per_partition) const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(handle_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  ListPtr list(raw);
  if (rd_kafka_position(handle_.get(), list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  std::int64_t total = 0;
  for (int i = 0; i < list->cnt; ++i) {
    auto& e = list->elems[i];
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(handle_.get(), e.topic, e.partition, &low, &high) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      continue;
    }
    std::int64_t position = e.offset >= 0 ? e.offset : low;
    std::int64_t partition_lag = high > position ? high - position : 0;
    total += partition_lag;
    if (per_partition) per_partition->push_back({{e.topic, e.partition, e.offset}, partition_lag});
  }
  return total;
}

}  // namespace common::kafka
