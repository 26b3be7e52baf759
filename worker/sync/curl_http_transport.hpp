#pragma once
#include <functional>
#include <memory>

#include "worker/sync/http_transport.hpp"

namespace worker::sync {

/// HttpTransport over one libcurl easy handle, reused so connections stay
/// alive between pages. The one place libcurl is included. Not thread-safe:
/// one API client owns it. Never throws for request failures: they come back
/// as HttpResponse::Transport values. `cancelled`, when given, is polled
/// during a request; returning true aborts it (a stop request should not wait
/// out a 30 s timeout).
class CurlHttpTransport : public HttpTransport {
 public:
  explicit CurlHttpTransport(std::function<bool()> cancelled = {});
  ~CurlHttpTransport() override;
  CurlHttpTransport(const CurlHttpTransport&) = delete;
  CurlHttpTransport& operator=(const CurlHttpTransport&) = delete;

  /// Translates into curl_easy_perform with CURLOPT_TIMEOUT_MS.
  HttpResponse get(const std::string& url, const std::vector<std::string>& headers,
                   std::chrono::milliseconds timeout) override;

  struct Impl;  ///< public only for libcurl's C callbacks

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace worker::sync
