#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fake_clerk_data.hpp"

/// A fake Clerk Backend API for the tests: HTTP/1.1 on 127.0.0.1, port 0,
/// serving FakeClerkData on the real paths with the real shapes:
///   GET /v1/users?limit=&offset=            bare array, newest first
///   GET /v1/users/count                      {"object":"total_count","total_count":N}
///   GET /v1/users/{id}, /v1/organizations/{id}
///   GET /v1/organizations?limit=&offset=     {"data":[...],"total_count":N}
///   GET /v1/organizations/{id}/memberships   {"data":[...],"total_count":N}
/// `limit` must be 1..500 (else 422, as Clerk answers). Requests without
/// `Authorization: Bearer <secret>` get 401. Failures can be injected (429 with
/// Retry-After, 5xx, delays), entities can be moved between pages from a hook
/// that runs before each list request, and every request is logged with its
/// arrival time. Thread-safe; one thread per connection.
namespace sync_test {

struct ServedRequest {
  std::string path;
  std::string query;
  std::chrono::steady_clock::time_point at;
  int status = 0;
};

/// What the next matching requests get instead of the real answer.
struct InjectedFailure {
  std::string path_prefix = "/v1/";  ///< requests whose path starts with this
  int status = 503;
  std::string retry_after;             ///< Retry-After header value, empty for none
  int count = 1;                       ///< how many requests get it
  std::chrono::milliseconds delay{0};  ///< wait before answering (timeouts)
};

class FakeClerkApi {
 public:
  explicit FakeClerkApi(std::string secret_key = "sk_test_fake");
  ~FakeClerkApi();
  FakeClerkApi(const FakeClerkApi&) = delete;
  FakeClerkApi& operator=(const FakeClerkApi&) = delete;

  std::string url() const;  ///< http://127.0.0.1:<port>
  const std::string& secret_key() const { return secret_key_; }
  FakeClerkData& data() { return data_; }

  void inject(InjectedFailure failure);
  /// Every answer waits this long first (slow responses).
  void set_latency(std::chrono::milliseconds latency) { latency_ms_.store(latency.count()); }
  /// Runs before a list request is answered, with the path and the number of list requests
  /// so far (1 for the first); may change data().
  void on_list(std::function<void(const std::string& path, int number)> hook);

  std::vector<ServedRequest> requests() const;
  int list_requests() const { return list_requests_.load(); }
  void stop();

 private:
  void accept_loop();
  void serve(int fd);
  std::string answer(const std::string& target, const std::string& authorization, int& status,
                     std::string& extra_headers);

  std::string secret_key_;
  FakeClerkData data_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> running_{true};
  std::atomic<std::int64_t> latency_ms_{0};
  std::atomic<int> list_requests_{0};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::list<std::thread> connections_;
  std::vector<int> open_fds_;
  std::deque<InjectedFailure> failures_;
  std::function<void(const std::string&, int)> list_hook_;
  std::vector<ServedRequest> log_;
};

}  // namespace sync_test
