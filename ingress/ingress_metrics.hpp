#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string_view>
#include <vector>

#include "ingress/http/request_handler.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace ingress {

/// Which route a request took, for the `route` label (a closed set).
enum class Route { kWebhook, kHealthz, kReadyz, kMetrics, kOther };
Route route_of(std::string_view path);
std::string_view to_string(Route route);

/// The ingress's Prometheus probes, all named `clerk_mirror_ingress_*`: requests by
/// route and status, rejections by code, request and publish latency, in-flight
/// requests and publishes, connections, producer errors and recreations, which
/// secret matched, duplicate deliveries. The one ingress file that includes
/// prometheus-cpp. Labels come from closed sets (unknown rejection codes count as
/// "other"). Thread-safe; hot paths touch cached series, no registry lookups.
/// Owned by main; registers its families on the registry it is given.
class IngressMetrics : public http::ServerObserver {
 public:
  IngressMetrics(prometheus::Registry& registry, std::size_t secret_count);
  ~IngressMetrics() override;

  // http::ServerObserver
  void on_response(std::string_view path, int status, std::string_view error_code,
                   std::chrono::steady_clock::duration elapsed) override;
  void on_connection_opened() override;
  void on_connection_closed() override;
  void on_connection_refused() override;
  void on_handling(int delta) override;

  /// `outcome`: persisted, failed, queue_full.
  void publish_finished(std::string_view outcome, std::chrono::steady_clock::duration elapsed);
  /// A delivery report that came after the budget had already answered 503.
  void publish_answered_late();
  void publishes_in_flight(int delta);
  /// `kind`: delivery_failed, queue_full, enqueue_failed, fatal.
  void producer_error(std::string_view kind);
  void producer_recreated();
  void secret_matched(std::size_t index);
  void duplicate_delivery();

 private:
  static constexpr std::size_t kRoutes = 5;
  static constexpr int kMinStatus = 100;
  static constexpr int kMaxStatus = 599;
  prometheus::Counter& request_counter(Route route, int status);
  prometheus::Counter* counter_for(
      std::vector<std::pair<std::string_view, prometheus::Counter*>>& table, std::string_view key);

  prometheus::Registry& registry_;
  std::mutex cache_mutex_;  ///< serialises filling one requests_ slot (Family::Add)
  void* requests_family_;   ///< prometheus::Family<Counter>*, kept opaque here
  std::array<std::array<std::atomic<prometheus::Counter*>, kMaxStatus - kMinStatus + 1>, kRoutes>
      requests_{};
  std::array<prometheus::Histogram*, kRoutes> request_seconds_{};
  std::vector<std::pair<std::string_view, prometheus::Counter*>> rejected_;
  std::vector<std::pair<std::string_view, prometheus::Counter*>> publish_outcomes_;
  std::vector<std::pair<std::string_view, prometheus::Counter*>> producer_errors_;
  prometheus::Histogram* publish_seconds_ = nullptr;
  prometheus::Gauge* in_flight_requests_ = nullptr;
  prometheus::Gauge* in_flight_publishes_ = nullptr;
  prometheus::Gauge* connections_ = nullptr;
  prometheus::Counter* connections_refused_ = nullptr;
  prometheus::Counter* producer_recreated_ = nullptr;
  prometheus::Counter* duplicates_ = nullptr;
  std::vector<prometheus::Counter*> secret_matches_;
};

}  // namespace ingress
