#include "common/kafka/kafka_admin.hpp"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "common/kafka/kafka_error.hpp"

namespace common::kafka {

KafkaAdmin::KafkaAdmin(const std::string& brokers, logging::Logger& logger) {
  context_.logger = &logger;
  ConfPtr conf = make_conf(base_properties(brokers, "clerk-mirror-admin"));
  install_client_callbacks(conf.get(), &context_);
  handle_ = make_handle(std::move(conf), true);
}

KafkaAdmin::~KafkaAdmin() = default;

void KafkaAdmin::create_topics(const std::vector<TopicSpec>& topics,
                               std::chrono::milliseconds timeout) {
  if (topics.empty()) return;
  char errstr[512];
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  auto destroy = [&] { rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size()); };
  for (const auto& spec : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                                    spec.replication, errstr, sizeof errstr);
    if (nt == nullptr) {
      destroy();
      throw KafkaError("topic " + spec.name + ": " + errstr);
    }
    for (const auto& [k, v] : spec.config)
      rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
    new_topics.push_back(nt);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle_.get());
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(handle_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, static_cast<int>(timeout.count()), errstr,
                                              sizeof errstr);
  rd_kafka_CreateTopics(handle_.get(), new_topics.data(), new_topics.size(), options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 5000);
  std::string failure;
  if (event == nullptr) {
    failure = "create topics: no answer from the broker";
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = std::string("create topics: ") + rd_kafka_event_error_string(event);
  } else {
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count; ++i) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        failure = std::string("topic ") + rd_kafka_topic_result_name(results[i]) + ": " +
                  (rd_kafka_topic_result_error_string(results[i])
                       ? rd_kafka_topic_result_error_string(results[i])
                       : rd_kafka_err2str(err));
        break;
      }
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  destroy();
  if (!failure.empty()) throw KafkaError(failure);
}

int KafkaAdmin::partition_count(const std::string& topic, std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(handle_.get(), 1, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(std::string("metadata: ") + rd_kafka_err2str(err), err);
  }
  int count = 0;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (topic == metadata->topics[i].topic && metadata->topics[i].err == 0) {
      count = metadata->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  return count;
}

std::vector<Watermarks> KafkaAdmin::watermarks(const std::string& topic,
                                               std::chrono::milliseconds timeout) {
  std::vector<Watermarks> out(static_cast<std::size_t>(partition_count(topic, timeout)));
  for (std::size_t p = 0; p < out.size(); ++p) {
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        handle_.get(), topic.c_str(), static_cast<std::int32_t>(p), &out[p].low, &out[p].high,
        static_cast<int>(timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw KafkaError(
          "watermarks of " + topic + "[" + std::to_string(p) + "]: " + rd_kafka_err2str(err), err);
    }
  }
  return out;
}

std::vector<TopicSpec> pipeline_topics(const std::string& topic, int partitions, int retry_levels) {
  std::vector<TopicSpec> specs;
  const std::string max_bytes = std::to_string(kTopicMaxMessageBytes);
  Properties keep_forever{
      {"retention.ms", "-1"}, {"cleanup.policy", "delete"}, {"max.message.bytes", max_bytes}};
  specs.push_back({topic, partitions, 1, keep_forever});
  for (int level = 1; level <= retry_levels; ++level) {
    specs.push_back({topic + ".retry." + std::to_string(level),
                     partitions,
                     1,
                     {{"retention.ms", std::to_string(7LL * 24 * 3600 * 1000)},
                      {"max.message.bytes", max_bytes}}});
  }
  specs.push_back({topic + ".dlq", partitions, 1, keep_forever});
  return specs;
}

}  // namespace common::kafka
