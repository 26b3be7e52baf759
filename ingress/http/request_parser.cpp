#include "ingress/http/request_parser.hpp"

#include <algorithm>
#include <cstring>

namespace ingress::http {
namespace {

constexpr std::uint64_t kInitialBodyReserve = 64 * 1024;

bool is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return is_tchar(static_cast<unsigned char>(c));
  });
}

// Field values: visible ASCII, space and tab. Everything else (controls, DEL,
// bytes >= 0x80) is refused rather than passed on.
bool is_value_char(unsigned char c) {
  return (c >= 0x20 && c < 0x7F) || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

// Calls `each` with every trimmed element of a comma-separated list.
template <typename Each>
void for_each_element(std::string_view list, Each each) {
  while (true) {
    std::size_t comma = list.find(',');
    each(trim(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

void RequestParser::reset() {
  state_ = State::kRequestLine;
  request_ = HttpRequest{};
  error_ = ParseError{};
  scanned_ = 0;
  header_bytes_ = 0;
  header_count_ = 0;
  remaining_ = 0;
}

RequestParser::Progress RequestParser::fail(int status, std::string_view code,
                                            std::string_view detail) {
  state_ = State::kError;
  error_ = ParseError{status, std::string(code), std::string(detail)};
  return Progress::kError;
}

RequestParser::Line RequestParser::next_line(std::string_view input, std::size_t pos,
                                             std::size_t limit, std::string_view& line,
                                             std::size_t& next) {
  std::size_t from = pos + scanned_;
  const void* found =
      from < input.size() ? std::memchr(input.data() + from, '\n', input.size() - from) : nullptr;
  if (found == nullptr) {
    scanned_ = input.size() - pos;
    // One byte of slack for the CR of a line that is exactly at the limit.
    return scanned_ > limit + 1 ? Line::kTooLong : Line::kNeedMore;
  }
  std::size_t newline = static_cast<std::size_t>(static_cast<const char*>(found) - input.data());
  scanned_ = 0;
  if (newline == pos || input[newline - 1] != '\r') return Line::kBareLf;
  line = input.substr(pos, newline - 1 - pos);
  next = newline + 1;
  return line.size() > limit ? Line::kTooLong : Line::kFound;
}

RequestParser::Progress RequestParser::feed(std::string_view input, std::size_t& consumed) {
  std::size_t pos = 0;
  consumed = 0;
  while (true) {
    switch (state_) {
      case State::kRequestLine: {
        std::string_view line;
        std::size_t next = 0;
        switch (next_line(input, pos, limits_.max_request_line, line, next)) {
          case Line::kNeedMore:
            consumed = pos;
            return Progress::kNeedMore;
          case Line::kTooLong:
            return fail(414, "uri_too_long", "the request line is longer than 8 KiB");
          case Line::kBareLf:
            return fail(400, "invalid_framing", "lines must end with CRLF");
          case Line::kFound:
            break;
        }
        pos = next;
        if (line.empty()) continue;  // RFC 9112 2.2: empty lines before a request are ignored
        if (!parse_request_line(line)) return Progress::kError;
        state_ = State::kHeaders;
        continue;
      }
      case State::kHeaders: {
        std::string_view line;
        std::size_t next = 0;
        Line status = next_line(input, pos, limits_.max_header_line, line, next);
        if (status == Line::kNeedMore) {
          if (header_bytes_ + scanned_ > limits_.max_header_bytes + 1) {
            return fail(431, "headers_too_large", "the header section is larger than 32 KiB");
          }
          consumed = pos;
          return Progress::kNeedMore;
        }
        if (status == Line::kTooLong) {
          return fail(431, "headers_too_large", "a header line is longer than 8 KiB");
        }
        if (status == Line::kBareLf) {
          return fail(400, "invalid_framing", "lines must end with CRLF");
        }
        pos = next;
        if (line.empty()) {
          if (!finish_head()) return Progress::kError;
          consumed = pos;
          return Progress::kHeadDone;
        }
        if (!parse_header_line(line, false)) return Progress::kError;
        continue;
      }
      case State::kHeadDone:
        if (request_.chunked) {
          state_ = State::kChunkSize;
        } else if (request_.content_length.value_or(0) > 0) {
          remaining_ = *request_.content_length;
          // Grown as bytes arrive beyond this: a head alone, unsigned and cheap to send,
          // must not make the server hold a whole body limit for every connection.
          request_.body.reserve(
              static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, kInitialBodyReserve)));
          state_ = State::kBodyLength;
        } else {
          state_ = State::kDone;
        }
        continue;
      case State::kBodyLength: {
        std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - pos));
        request_.body.append(input.data() + pos, take);
        pos += take;
        remaining_ -= take;
        if (remaining_ > 0) {
          consumed = pos;
          return Progress::kNeedMore;
        }
        state_ = State::kDone;
        continue;
      }
      case State::kChunkSize: {
        std::string_view line;
        std::size_t next = 0;
        switch (next_line(input, pos, limits_.max_chunk_line, line, next)) {
          case Line::kNeedMore:
            consumed = pos;
            return Progress::kNeedMore;
          case Line::kTooLong:
            return fail(400, "invalid_chunk", "a chunk size line is longer than 1 KiB");
          case Line::kBareLf:
            return fail(400, "invalid_chunk", "lines must end with CRLF");
          case Line::kFound:
            break;
        }
        pos = next;
        if (!parse_chunk_size(line)) return Progress::kError;
        continue;
      }
      case State::kChunkData: {
        std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - pos));
        request_.body.append(input.data() + pos, take);
        pos += take;
        remaining_ -= take;
        if (remaining_ > 0) {
          consumed = pos;
          return Progress::kNeedMore;
        }
        state_ = State::kChunkDataEnd;
        continue;
      }
      case State::kChunkDataEnd:
        if (input.size() - pos < 2) {
          if (input.size() - pos == 1 && input[pos] != '\r') {
            return fail(400, "invalid_chunk", "chunk data is not followed by CRLF");
          }
          consumed = pos;
          return Progress::kNeedMore;
        }
        if (input[pos] != '\r' || input[pos + 1] != '\n') {
          return fail(400, "invalid_chunk", "chunk data is not followed by CRLF");
        }
        pos += 2;
        state_ = State::kChunkSize;
        continue;
      case State::kTrailers: {
        std::string_view line;
        std::size_t next = 0;
        switch (next_line(input, pos, limits_.max_header_line, line, next)) {
          case Line::kNeedMore:
            consumed = pos;
            return Progress::kNeedMore;
          case Line::kTooLong:
            return fail(431, "headers_too_large", "a trailer line is longer than 8 KiB");
          case Line::kBareLf:
            return fail(400, "invalid_chunk", "lines must end with CRLF");
          case Line::kFound:
            break;
        }
        pos = next;
        if (line.empty()) {
          state_ = State::kDone;
          continue;
        }
        if (!parse_header_line(line, true)) return Progress::kError;
        continue;
      }
      case State::kDone:
        consumed = pos;
        return Progress::kMessageDone;
      case State::kError:
        consumed = pos;
        return Progress::kError;
    }
  }
}

bool RequestParser::parse_request_line(std::string_view line) {
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) {
      fail(400, "invalid_request_line", "the request line has a control or non-ASCII byte");
      return false;
    }
  }
  std::size_t first = line.find(' ');
  if (first == std::string_view::npos) {
    fail(400, "invalid_request_line", "the request line is not METHOD TARGET VERSION");
    return false;
  }
  std::string_view method = line.substr(0, first);
  std::string_view rest = line.substr(first + 1);
  std::size_t second = rest.find(' ');
  if (second == std::string_view::npos) {
    // HTTP/0.9 style: "GET /path" with no version.
    fail(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
    return false;
  }
  std::string_view target = rest.substr(0, second);
  std::string_view version = rest.substr(second + 1);
  if (!is_token(method) || target.empty() || version.find(' ') != std::string_view::npos) {
    fail(400, "invalid_request_line", "the request line is not METHOD TARGET VERSION");
    return false;
  }
  if (version == "HTTP/1.1") {
    request_.version_minor = 1;
  } else if (version == "HTTP/1.0") {
    request_.version_minor = 0;
  } else if (version.substr(0, 5) == "HTTP/") {
    fail(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
    return false;
  } else {
    fail(400, "invalid_request_line", "the request line has no HTTP version");
    return false;
  }
  request_.headers.reserve(16);
  request_.method = std::string(method);
  request_.target = std::string(target);
  request_.path = std::string(target.substr(0, target.find('?')));
  return true;
}

bool RequestParser::parse_header_line(std::string_view line, bool trailer) {
  if (line.front() == ' ' || line.front() == '\t') {
    fail(400, "invalid_header", "obsolete line folding is not accepted");
    return false;
  }
  header_bytes_ += line.size() + 2;
  if (header_bytes_ > limits_.max_header_bytes) {
    fail(431, "headers_too_large", "the header section is larger than 32 KiB");
    return false;
  }
  if (++header_count_ > limits_.max_header_count) {
    fail(431, "headers_too_large", "more than 100 header fields");
    return false;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    fail(400, "invalid_header", "a header line is not NAME: VALUE");
    return false;
  }
  std::string_view value = trim(line.substr(colon + 1));
  for (char c : value) {
    if (!is_value_char(static_cast<unsigned char>(c))) {
      fail(400, "invalid_header", "a header value has a control or non-ASCII byte");
      return false;
    }
  }
  if (!trailer) request_.headers.emplace_back(lower(line.substr(0, colon)), std::string(value));
  return true;
}

bool RequestParser::finish_head() {
  HttpRequest& r = request_;
  std::size_t hosts = r.count("host");
  if (hosts > 1 || (hosts == 0 && r.version_minor == 1)) {
    fail(400, "invalid_header", "an HTTP/1.1 request needs exactly one Host header");
    return false;
  }

  bool has_length = false;
  bool has_coding = false;
  bool length_ok = true;
  std::uint64_t length = 0;
  bool only_chunked = true;
  std::size_t codings = 0;
  for (const auto& [name, value] : r.headers) {
    if (name == "content-length") {
      for_each_element(value, [&](std::string_view element) {
        std::uint64_t parsed = 0;
        bool digits = !element.empty() && element.size() <= 19 &&
                      std::all_of(element.begin(), element.end(),
                                  [](char c) { return c >= '0' && c <= '9'; });
        if (digits) {
          for (char c : element)
            parsed = parsed * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (!digits || (has_length && parsed != length)) length_ok = false;
        length = parsed;
        has_length = true;
      });
    } else if (name == "transfer-encoding") {
      has_coding = true;
      for_each_element(value, [&](std::string_view element) {
        ++codings;
        if (lower(element) != "chunked") only_chunked = false;
      });
    }
  }
  if (has_length && has_coding) {
    fail(400, "invalid_framing", "Content-Length and Transfer-Encoding together");
    return false;
  }
  if (!length_ok) {
    fail(400, "invalid_content_length", "Content-Length is not one non-negative integer");
    return false;
  }
  if (has_coding) {
    if (r.version_minor == 0) {
      fail(400, "invalid_framing", "Transfer-Encoding in an HTTP/1.0 request");
      return false;
    }
    if (!only_chunked || codings != 1) {
      fail(501, "unsupported_transfer_encoding", "only Transfer-Encoding: chunked is accepted");
      return false;
    }
    r.chunked = true;
  } else if (has_length) {
    r.content_length = length;
    if (length > limits_.max_body) {
      fail(413, "payload_too_large", "the body is larger than the limit");
      return false;
    }
  }

  r.keep_alive = r.version_minor == 1;
  for (const auto& [name, value] : r.headers) {
    if (name != "connection") continue;
    for_each_element(value, [&](std::string_view element) {
      std::string token = lower(element);
      if (token == "close") r.keep_alive = false;
      if (token == "keep-alive" && r.version_minor == 0) r.keep_alive = true;
    });
  }
  if (auto expect = r.header("expect")) {
    if (r.count("expect") != 1 || lower(*expect) != "100-continue") {
      fail(417, "expectation_failed", "only Expect: 100-continue is understood");
      return false;
    }
    r.expect_continue = r.version_minor == 1;
  }
  state_ = State::kHeadDone;
  return true;
}

bool RequestParser::parse_chunk_size(std::string_view line) {
  std::size_t digits = 0;
  std::uint64_t size = 0;
  while (digits < line.size()) {
    char c = line[digits];
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) break;
    if (digits == 15) {
      fail(400, "invalid_chunk", "a chunk size is too long");
      return false;
    }
    size = size * 16 + static_cast<std::uint64_t>(v);
    ++digits;
  }
  if (digits == 0) {
    fail(400, "invalid_chunk", "a chunk size is not hexadecimal");
    return false;
  }
  std::string_view extension = line.substr(digits);
  std::size_t ws = 0;
  while (ws < extension.size() && (extension[ws] == ' ' || extension[ws] == '\t'))
    ++ws;
  if (!extension.empty() && (ws == extension.size() || extension[ws] != ';')) {
    fail(400, "invalid_chunk", "a chunk size is followed by something other than an extension");
    return false;
  }
  for (char c : extension) {
    if (!is_value_char(static_cast<unsigned char>(c))) {
      fail(400, "invalid_chunk", "a chunk extension has a control or non-ASCII byte");
      return false;
    }
  }
  if (size > limits_.max_body - std::min<std::uint64_t>(request_.body.size(), limits_.max_body)) {
    fail(413, "payload_too_large", "the chunked body grows past the limit");
    return false;
  }
  if (size == 0) {
    state_ = State::kTrailers;
  } else {
    remaining_ = size;
    state_ = State::kChunkData;
  }
  return true;
}

}  // namespace ingress::http
