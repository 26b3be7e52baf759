#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace worker::sync {

/// What one HTTP exchange produced, translated at the adapter.
struct HttpResponse {
  enum class Transport {
    kCompleted,      ///< a status line arrived: see `status`
    kTimedOut,       ///< no complete answer within the timeout
    kConnectFailed,  ///< DNS, refused, reset, TLS handshake
    kFailed,         ///< anything else the HTTP library reported
  };
  Transport transport = Transport::kCompleted;
  int status = 0;
  std::string body;
  std::string retry_after;  ///< the Retry-After header's value, empty when absent
  std::string error;        ///< the library's words when not completed
};

/// Issues HTTP GET requests. Implementations state their thread-safety; the
/// request headers may hold secrets and are never logged.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse get(const std::string& url, const std::vector<std::string>& headers,
                           std::chrono::milliseconds timeout) = 0;
};

}  // namespace worker::sync
