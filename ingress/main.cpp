// clerk-mirror-ingress: wires the process together (the only place that does).
// Read config, build the objects, pass them by reference, run, stop in reverse.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "common/config/env_reader.hpp"
#include "common/events/envelope_codec.hpp"
#include "common/logging/logger.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "common/process/stop_signal.hpp"
#include "ingress/http/http_server.hpp"
#include "ingress/ingress_config.hpp"
#include "ingress/ingress_metrics.hpp"
#include "ingress/ingress_routes.hpp"
#include "ingress/publish/kafka_event_publisher.hpp"
#include "ingress/signature/signature_verifier.hpp"
#include "ingress/webhook/webhook_handler.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(ingress::ingress_usage().c_str(), stdout);
      return 0;
    }
  }
  common::process::StopSignal stop;  // first: later threads inherit the signal mask

  common::config::EnvReader env;
  std::vector<std::string> positional = env.apply_flags(args, ingress::ingress_config_variables());
  for (const auto& extra : positional)
    env.fail(extra, "is not an option (try --help)");
  ingress::IngressConfig config = ingress::read_ingress_config(env);
  if (!env.problems().empty()) {
    for (const auto& problem : env.problems()) {
      std::fprintf(stderr, "clerk-mirror-ingress: %s\n", problem.c_str());
    }
    return 2;
  }

  common::logging::Logger logger("ingress", config.ingress_log_level);
  try {
    common::metrics::MetricsRegistry registry;
    ingress::IngressMetrics metrics(registry.registry(), config.clerk_webhook_secret.size());
    ingress::signature::SignatureVerifier verifier(config.clerk_webhook_secret,
                                                   config.ingress_timestamp_tolerance_seconds);
    common::events::EnvelopeCodec codec;

    common::kafka::ProducerSettings producer_settings{config.kafka_brokers};
    producer_settings.client_id = "clerk-mirror-ingress";
    producer_settings.delivery_timeout =
        ingress::delivery_timeout_for(config.ingress_publish_timeout_ms);
    producer_settings.linger = config.ingress_kafka_linger_ms;
    ingress::publish::KafkaEventPublisher publisher(
        ingress::publish::kafka_producer_factory(producer_settings, logger), metrics, logger);

    ingress::webhook::WebhookHandler webhook(
        {config.kafka_topic, config.ingress_max_in_flight, config.ingress_retry_after_seconds,
         config.ingress_recent_ids},
        verifier, codec, publisher, metrics, logger, [] {
          return std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
              .count();
        });
    ingress::IngressRoutes routes(
        webhook, publisher, [&registry] { return registry.render(); },
        config.ingress_retry_after_seconds);

    ingress::http::HttpServerSettings server_settings;
    server_settings.listen = config.ingress_listen;
    server_settings.threads = config.ingress_threads;
    server_settings.limits.max_body = config.ingress_max_body_bytes;
    server_settings.header_timeout = config.ingress_header_timeout_ms;
    server_settings.body_timeout = config.ingress_body_timeout_ms;
    server_settings.idle_timeout = config.ingress_idle_timeout_ms;
    server_settings.write_timeout = config.ingress_write_timeout_ms;
    server_settings.handler_budget = config.ingress_publish_timeout_ms;
    server_settings.max_connections = config.ingress_max_connections;
    server_settings.retry_after_seconds = config.ingress_retry_after_seconds;
    ingress::http::HttpServer server(server_settings, routes, metrics, logger);
    try {
      server.start();
    } catch (const std::exception& e) {
      logger.error("cannot start the HTTP server", {{"detail", e.what()}});
      return 1;
    }
    logger.info("listening", {{"listen", config.ingress_listen},
                              {"port", server.port()},
                              {"threads", config.ingress_threads},
                              {"topic", config.kafka_topic},
                              {"secrets", config.clerk_webhook_secret.size()}});

    stop.wait();
    logger.info("stopping", {{"signal", stop.signal_number()}});
    // Stop in reverse: no new connections, finish what is in flight within the
    // budget (each answer closes its connection), flush the producer, then exit.
    routes.begin_drain();
    server.stop_accepting();
    bool drained = server.drain(config.ingress_publish_timeout_ms + std::chrono::seconds(1));
    bool flushed = publisher.flush(config.ingress_publish_timeout_ms);
    server.stop();
    publisher.close();  // late delivery reports still reach a live handler
    logger.info("stopped", {{"drained", drained}, {"flushed", flushed}});
    return 0;
  } catch (const std::exception& e) {
    logger.error("fatal error", {{"detail", e.what()}});
    return 1;
  }
}
