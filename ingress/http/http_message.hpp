#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ingress::http {

/// Header fields in arrival order; names lower-cased by the parser, values trimmed.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// A parsed request. The parser fills the head first; `body` once it is complete.
struct HttpRequest {
  std::string method;
  std::string target;     ///< as sent
  std::string path;       ///< target up to `?`
  int version_minor = 1;  ///< HTTP/1.<minor>
  HeaderList headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool keep_alive = true;
  bool expect_continue = false;
  std::string body;
  std::chrono::steady_clock::time_point started{};  ///< first byte seen (latency metric)

  /// The value of the only header named `name` (lower-case); nullopt when absent.
  /// Use count() first where repetition matters.
  std::optional<std::string_view> header(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

/// An answer. Rejections carry `error_code` (the JSON body's `error`) for metrics.
struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  HeaderList headers;      ///< extra headers: Allow, Retry-After
  std::string error_code;  ///< empty on success
  bool close = false;      ///< close the connection after writing

  /// `{"error":"<code>","detail":"<detail>"}` with `status`.
  static HttpResponse error(int status, std::string_view code, std::string_view detail);
  /// 503 with `Retry-After: <seconds>`.
  static HttpResponse unavailable(std::string_view code, std::string_view detail,
                                  int retry_after_seconds);
};

/// The standard reason phrase for `status` ("Not Found"); "Unknown" otherwise.
std::string_view reason_phrase(int status);

/// Serialises the status line, headers (Content-Length always; Connection: close
/// when closing) and body into one buffer for a single write.
std::string serialize(const HttpResponse& response, bool close);

}  // namespace ingress::http
