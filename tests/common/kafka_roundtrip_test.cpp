#include <catch2/catch.hpp>

#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/logging/logger.hpp"
#include "support/test_env.hpp"

using namespace common::kafka;

TEST_CASE("a record produced with acks=all is consumed byte for byte with its headers", "[kafka]") {
  common::logging::Logger logger("test", common::logging::Level::kWarn);
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  std::string topic = test_support::unique_name("roundtrip");

  KafkaAdmin admin(brokers, logger);
  admin.create_topics({{topic, 3, 1, {}}}, std::chrono::seconds(10));
  CHECK(admin.partition_count(topic, std::chrono::seconds(5)) == 3);
  // Creating again is harmless.
  admin.create_topics({{topic, 3, 1, {}}}, std::chrono::seconds(10));

  KafkaProducer producer({brokers}, logger);
  REQUIRE(producer.ping(std::chrono::seconds(5)));
  std::string body("{\"type\":\"user.created\",\"data\":{\"id\":\"user_1\"}}\0tail", 52);
  DeliveryReport report = producer.produce_sync(
      {topic, "user_1", body, {{"event-id", "msg_1"}, {"source", "webhook"}}, {}, 0});
  REQUIRE(report.persisted);
  CHECK(report.offset >= 0);

  KafkaConsumer consumer({brokers, test_support::unique_name("group")}, logger);
  consumer.subscribe({topic});
  std::optional<ConsumedRecord> got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!got && std::chrono::steady_clock::now() < deadline) {
    got = consumer.poll(std::chrono::milliseconds(200));
  }
  REQUIRE(got.has_value());
  CHECK(got->value == body);
  CHECK(got->key == std::optional<std::string>("user_1"));
  CHECK(got->partition == report.partition);
  CHECK(got->offset == report.offset);
  REQUIRE(find_header(got->headers, "event-id") != nullptr);
  CHECK(find_header(got->headers, "event-id")->value == "msg_1");
  CHECK(find_header(got->headers, "source")->value == "webhook");
  consumer.close();
}

TEST_CASE("producing to a broker that is not there fails within the delivery timeout", "[kafka]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  ProducerSettings settings{"127.0.0.1:1"};
  settings.delivery_timeout = std::chrono::milliseconds(1500);
  KafkaProducer producer(settings, logger);
  auto started = std::chrono::steady_clock::now();
  DeliveryReport report = producer.produce_sync({"nowhere", "k", "v", {}, {}, 0});
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK_FALSE(report.persisted);
  CHECK_FALSE(report.error.empty());
  CHECK(waited < std::chrono::seconds(5));
  CHECK_FALSE(producer.ping(std::chrono::milliseconds(300)));
}

TEST_CASE("produce_all waits for every acknowledgement of a batch", "[kafka]") {
  common::logging::Logger logger("test", common::logging::Level::kWarn);
  std::string brokers = test_support::require_env("KAFKA_BROKERS");
  std::string topic = test_support::unique_name("batch");
  KafkaAdmin(brokers, logger).create_topics({{topic, 2, 1, {}}}, std::chrono::seconds(10));
  KafkaProducer producer({brokers}, logger);
  std::vector<OutgoingRecord> records;
  for (int i = 0; i < 500; ++i) {
    records.push_back({topic, "k" + std::to_string(i % 7), "v" + std::to_string(i), {}, {}, 0});
  }
  BatchDelivery delivery = producer.produce_all(records, std::chrono::seconds(20));
  CHECK(delivery.ok());
  CHECK(delivery.persisted == 500);
  CHECK(delivery.unreported == 0);
}

TEST_CASE("produce_all reports a batch the broker never acknowledged", "[kafka]") {
  common::logging::Logger logger("test", common::logging::Level::kError);
  ProducerSettings settings{"127.0.0.1:1"};
  settings.delivery_timeout = std::chrono::milliseconds(800);
  KafkaProducer producer(settings, logger);
  std::vector<OutgoingRecord> records(3, OutgoingRecord{"nowhere", "k", "v", {}, {}, 0});
  BatchDelivery delivery = producer.produce_all(records, std::chrono::seconds(5));
  CHECK_FALSE(delivery.ok());
  CHECK(delivery.persisted == 0);
  CHECK(delivery.failed + delivery.unreported == 3);
  CHECK_FALSE(delivery.first_error.empty());
}
