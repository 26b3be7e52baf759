#pragma once
#include <memory>
#include <string>

namespace prometheus {
class Registry;
}

namespace common::metrics {

/// Owns a prometheus-cpp registry and renders it in the text exposition format.
/// Process metric probes (IngressMetrics, WorkerMetrics) register their families
/// on `registry()`. Thread-safe (prometheus-cpp metrics are atomic).
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  prometheus::Registry& registry() { return *registry_; }
  /// Translates into prometheus::TextSerializer over Registry::Collect().
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace common::metrics
