#include "ingress/http/http_message.hpp"

#include "common/logging/logger.hpp"

namespace ingress::http {

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::size_t HttpRequest::count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& h : headers)
    n += h.first == name ? 1 : 0;
  return n;
}

HttpResponse HttpResponse::error(int status, std::string_view code, std::string_view detail) {
  HttpResponse response;
  response.status = status;
  response.error_code = std::string(code);
  response.body = "{\"error\":";
  common::logging::append_json_string(response.body, code);
  response.body += ",\"detail\":";
  common::logging::append_json_string(response.body, detail);
  response.body += '}';
  return response;
}

HttpResponse HttpResponse::unavailable(std::string_view code, std::string_view detail,
                                       int retry_after_seconds) {
  HttpResponse response = error(503, code, detail);
  response.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return response;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string serialize(const HttpResponse& response, bool close) {
  std::string out;
  out.reserve(160 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\n";
  if (response.status != 204) {
    if (!response.body.empty()) {
      out += "Content-Type: ";
      out += response.content_type;
      out += "\r\n";
    }
    out += "Content-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (response.status != 204) out += response.body;
  return out;
}

}  // namespace ingress::http
