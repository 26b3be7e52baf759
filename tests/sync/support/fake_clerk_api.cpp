#include "fake_clerk_api.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <stdexcept>

namespace sync_test {
namespace {

std::map<std::string, std::string> parse_query(const std::string& query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(start, end - start);
    std::size_t eq = pair.find('=');
    if (eq != std::string::npos) out[pair.substr(0, eq)] = pair.substr(eq + 1);
    start = end + 1;
  }
  return out;
}

std::int64_t to_int(const std::string& text, std::int64_t fallback) {
  std::int64_t value = fallback;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return fallback;
  return value;
}

std::string error_body(const std::string& code, const std::string& message) {
  return "{\"errors\":[{\"message\":\"" + message + "\",\"long_message\":\"" + message +
         "\",\"code\":\"" + code + "\"}]}";
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

FakeClerkApi::FakeClerkApi(std::string secret_key) : secret_key_(std::move(secret_key)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("fake clerk api: cannot listen on 127.0.0.1:0");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeClerkApi::~FakeClerkApi() {
  stop();
}

void FakeClerkApi::stop() {
  if (!running_.exchange(false)) return;
  acceptor_.join();
  ::close(listen_fd_);
  std::list<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (int fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
    threads.swap(connections_);
  }
  for (auto& t : threads)
    t.join();
}

std::string FakeClerkApi::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeClerkApi::inject(InjectedFailure failure) {
  std::lock_guard lock(mutex_);
  failures_.push_back(std::move(failure));
}

void FakeClerkApi::on_list(std::function<void(const std::string&, int)> hook) {
  std::lock_guard lock(mutex_);
  list_hook_ = std::move(hook);
}

std::vector<ServedRequest> FakeClerkApi::requests() const {
  std::lock_guard lock(mutex_);
  return log_;
}

void FakeClerkApi::accept_loop() {
  while (running_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    open_fds_.push_back(fd);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void FakeClerkApi::serve(int fd) {
  std::string buffer;
  char chunk[4096];
  while (running_.load()) {
    std::size_t end = buffer.find("\r\n\r\n");
    if (end == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    std::string authorization;
    bool close_after = false;
    std::size_t pos = line_end;
    while (pos != std::string::npos && pos < head.size()) {
      std::size_t next = head.find("\r\n", pos + 2);
      std::string header =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      std::string lower = header;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (lower.rfind("authorization:", 0) == 0) {
        authorization = header.substr(14);
        authorization.erase(0, authorization.find_first_not_of(' '));
      }
      if (lower.rfind("connection:", 0) == 0 && lower.find("close") != std::string::npos)
        close_after = true;
      pos = next;
    }
    std::size_t sp1 = request_line.find(' ');
    std::size_t sp2 = request_line.find(' ', sp1 + 1);
    std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    int status = 200;
    std::string extra;
    std::string body = answer(target, authorization, status, extra);
    std::string response =
        "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n" + extra + (close_after ? "Connection: close\r\n" : "") + "\r\n" + body;
    if (!send_all(fd, response) || close_after) break;
  }
  std::lock_guard lock(mutex_);
  ::close(fd);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
}

std::string FakeClerkApi::answer(const std::string& target, const std::string& authorization,
                                 int& status, std::string& extra_headers) {
  auto arrived = std::chrono::steady_clock::now();
  std::size_t q = target.find('?');
  std::string path = target.substr(0, q);
  std::string query = q == std::string::npos ? "" : target.substr(q + 1);
  auto record = [&](int code) {
    std::lock_guard lock(mutex_);
    log_.push_back({path, query, arrived, code});
  };

  std::optional<InjectedFailure> failure;
  std::function<void(const std::string&, int)> hook;
  {
    std::lock_guard lock(mutex_);
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (path.rfind(it->path_prefix, 0) == 0) {
        failure = *it;
        if (--it->count <= 0) failures_.erase(it);
        break;
      }
    }
    hook = list_hook_;
  }
  auto latency = std::chrono::milliseconds(latency_ms_.load());
  if (failure) latency += failure->delay;
  if (latency.count() > 0) std::this_thread::sleep_for(latency);
  if (failure && failure->status != 200) {
    status = failure->status;
    if (!failure->retry_after.empty())
      extra_headers += "Retry-After: " + failure->retry_after + "\r\n";
    record(status);
    return error_body(status == 429 ? "too_many_requests" : "internal_clerk_error", reason(status));
  }
  if (authorization != "Bearer " + secret_key_) {
    status = 401;
    record(status);
    return error_body("authentication_invalid", "Unauthorized request");
  }
  auto params = parse_query(query);
  std::int64_t limit = to_int(params.count("limit") ? params["limit"] : "10", -1);
  std::int64_t offset = to_int(params.count("offset") ? params["offset"] : "0", -1);
  bool is_list = path == "/v1/users" || path == "/v1/organizations" ||
                 (path.rfind("/v1/organizations/", 0) == 0 && path.size() > 12 &&
                  path.substr(path.size() - 12) == "/memberships");
  if (is_list) {
    if (limit < 1 || limit > 500 || offset < 0) {
      status = 422;
      record(status);
      return error_body("form_param_value_invalid", "limit must be between 1 and 500");
    }
    int number = ++list_requests_;
    if (hook) hook(path, number);
  }
  std::string body;
  if (path == "/v1/users") {
    body = data_.users_page(static_cast<int>(limit), offset);
  } else if (path == "/v1/users/count") {
    body = data_.users_count();
  } else if (path == "/v1/organizations") {
    body = data_.organizations_page(static_cast<int>(limit), offset);
  } else if (is_list) {
    std::string id = path.substr(18, path.size() - 18 - 12);
    auto page = data_.memberships_page(id, static_cast<int>(limit), offset);
    if (!page) status = 404;
    body = page.value_or(error_body("resource_not_found", "Not Found"));
  } else if (path.rfind("/v1/users/", 0) == 0) {
    auto user = data_.user_body(path.substr(10));
    if (!user) status = 404;
    body = user.value_or(error_body("resource_not_found", "Not Found"));
  } else if (path.rfind("/v1/organizations/", 0) == 0) {
    auto organization = data_.organization_body(path.substr(18));
    if (!organization) status = 404;
    body = organization.value_or(error_body("resource_not_found", "Not Found"));
  } else {
    status = 404;
    body = error_body("resource_not_found", "Not Found");
  }
  record(status);
  return body;
}

}  // namespace sync_test
