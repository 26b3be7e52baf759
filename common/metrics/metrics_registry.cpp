#include "common/metrics/metrics_registry.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace common::metrics {

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}
MetricsRegistry::~MetricsRegistry() = default;

std::string MetricsRegistry::render() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace common::metrics
