#pragma once
// Helpers shared by the ingress suites: a raw-socket HTTP client (framing rows need
// exact bytes, not an HTTP library), request builders that sign with the Standard
// Webhooks test secret, and a fake publisher with injectable failures.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ingress/publish/event_publisher.hpp"
#include "ingress/signature/signature_verifier.hpp"
#include "ingress/signature/webhook_secret.hpp"

namespace ingress_test {

/// The Standard Webhooks / Svix published test secret.
inline constexpr std::string_view kTestSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// A second secret, for rotation cases.
inline constexpr std::string_view kOtherSecret = "whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdHMtb25seQ==";

inline ingress::signature::WebhookSecret secret(std::string_view text) {
  std::string problem;
  auto parsed = ingress::signature::parse_webhook_secret(text, problem);
  if (!parsed) throw std::runtime_error("bad test secret: " + problem);
  return *parsed;
}

inline std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A Clerk-like envelope.
inline std::string envelope(std::string_view type, std::string_view data,
                            std::string_view timestamp = "1700000000000") {
  return std::string("{\"data\":") + std::string(data) + ",\"object\":\"event\",\"type\":\"" +
         std::string(type) + "\",\"timestamp\":" + std::string(timestamp) +
         ",\"instance_id\":\"ins_test\"}";
}

inline std::string user_created(std::string_view user_id) {
  return envelope("user.created", "{\"id\":\"" + std::string(user_id) +
                                      "\",\"object\":\"user\",\"first_name\":\"Ada\"}");
}

/// Signs with `signer` (secret 0) and returns the three svix-* header lines.
inline std::string svix_headers(const ingress::signature::SignatureVerifier& signer,
                                std::string_view id, std::int64_t timestamp,
                                std::string_view body) {
  return "svix-id: " + std::string(id) + "\r\nsvix-timestamp: " + std::to_string(timestamp) +
         "\r\nsvix-signature: " + signer.sign(0, id, timestamp, body) + "\r\n";
}

/// A complete POST /webhooks/clerk with Content-Length and the given extra header lines.
inline std::string post(std::string_view body, std::string_view header_lines,
                        std::string_view path = "/webhooks/clerk",
                        std::string_view content_type = "application/json") {
  std::string out = "POST " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n";
  if (!content_type.empty()) out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += header_lines;
  out += "\r\n";
  out += body;
  return out;
}

inline std::string signed_post(const ingress::signature::SignatureVerifier& signer,
                               std::string_view id, std::string_view body,
                               std::int64_t timestamp = now_seconds()) {
  return post(body, svix_headers(signer, id, timestamp, body));
}

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  bool complete = false;
};

/// Parses one response from the front of `raw`; consumes it.
inline std::optional<RawResponse> take_response(std::string& raw) {
  std::size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  RawResponse response;
  std::string head = raw.substr(0, end);
  std::size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  response.status = std::stoi(status_line.substr(9, 3));
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    std::size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
      response.headers[name] = value;
    }
    pos = next + 2;
  }
  std::size_t length = 0;
  if (auto it = response.headers.find("content-length"); it != response.headers.end()) {
    length = std::stoul(it->second);
  }
  if (raw.size() < end + 4 + length) return std::nullopt;
  response.body = raw.substr(end + 4, length);
  response.complete = true;
  raw.erase(0, end + 4 + length);
  return response;
}

/// A blocking TCP client on 127.0.0.1 that sends exact bytes.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// False when the peer already closed (EPIPE/ECONNRESET).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Reads until one complete response, EOF, or the timeout.
  std::optional<RawResponse> response(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto r = take_response(buffer_)) return r;
      if (!fill(deadline)) return std::nullopt;
    }
  }

  /// True when the server closes the connection within `timeout` (bytes before
  /// the close are kept for response()).
  bool closed(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_) {
      if (!fill(deadline)) return eof_;
    }
    return true;
  }

  const std::string& pending() const { return buffer_; }
  int fd() const { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

/// Sends one request on a fresh connection and returns the answer.
inline std::optional<RawResponse> exchange(
    std::uint16_t port, std::string_view request,
    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  RawClient client(port);
  client.send(request);
  return client.response(timeout);
}

/// An EventPublisher for unit tests: persists at once by default; inject_failure()
/// makes every publish fail; hold() keeps callbacks until release().
class FakePublisher : public ingress::publish::EventPublisher {
 public:
  void publish(common::kafka::OutgoingRecord&& record,
               ingress::publish::PublishCallback done) override {
    if (throw_on_publish) throw std::runtime_error("injected publisher failure");
    std::unique_lock lock(mutex_);
    published.push_back(record);
    if (holding_) {
      held_.push_back(std::move(done));
      return;
    }
    auto status = failure_;
    lock.unlock();
    done({status, status == ingress::publish::PublishStatus::kPersisted ? "" : "injected"});
  }
  bool ready() const override { return ready_flag; }
  bool flush(std::chrono::milliseconds) override { return true; }

  void inject_failure(ingress::publish::PublishStatus status) {
    std::lock_guard lock(mutex_);
    failure_ = status;
  }
  void hold() {
    std::lock_guard lock(mutex_);
    holding_ = true;
  }
  void release(ingress::publish::PublishStatus status) {
    std::deque<ingress::publish::PublishCallback> callbacks;
    {
      std::lock_guard lock(mutex_);
      holding_ = false;
      callbacks.swap(held_);
    }
    for (auto& done : callbacks)
      done({status, "released"});
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return published.size();
  }

  std::vector<common::kafka::OutgoingRecord> published;
  bool ready_flag = true;
  bool throw_on_publish = false;

 private:
  std::mutex mutex_;
  ingress::publish::PublishStatus failure_ = ingress::publish::PublishStatus::kPersisted;
  bool holding_ = false;
  std::deque<ingress::publish::PublishCallback> held_;
};

}  // namespace ingress_test
