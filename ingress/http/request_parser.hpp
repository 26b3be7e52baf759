#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingress/http/http_message.hpp"

namespace ingress::http {

/// Bounds the parser enforces (the bad-input table, rows 5 to 16).
struct ParserLimits {
  std::size_t max_request_line = 8192;   ///< 414 beyond
  std::size_t max_header_line = 8192;    ///< 431 beyond
  std::size_t max_header_bytes = 32768;  ///< all header lines together; 431 beyond
  std::size_t max_header_count = 100;    ///< 431 beyond
  std::size_t max_chunk_line = 1024;     ///< chunk size plus extensions; 400 beyond
  std::uint64_t max_body = 1024 * 1024;  ///< 413 beyond (Content-Length or chunked total)
};

/// Why a request cannot be read. The connection is always closed after answering.
struct ParseError {
  int status = 400;
  std::string code;
  std::string detail;
};

/// A strict, incremental HTTP/1.1 request parser: pure, no I/O, no allocation
/// beyond the request it builds. Stricter than RFC 9112 requires where leniency
/// helps request smuggling: CRLF line endings only, no obs-fold, no whitespace
/// before a header colon, visible ASCII only in the request line and header values,
/// Content-Length and Transfer-Encoding never together, `chunked` the only
/// transfer coding, identical values only when Content-Length repeats.
///
/// Feed it the unconsumed input; it reports how many bytes it used (the caller
/// drops them and keeps the rest, e.g. a pipelined next request). Work is linear
/// in the input however it is split. One request at a time; reset() for the next.
/// Not thread-safe (one per connection).
class RequestParser {
 public:
  enum class Progress {
    kNeedMore,     ///< feed more input
    kHeadDone,     ///< request() has method, target, headers, framing; body not read yet
    kMessageDone,  ///< request() is complete, body included
    kError,        ///< error() says what to answer; close afterwards
  };

  explicit RequestParser(ParserLimits limits = {});

  Progress feed(std::string_view input, std::size_t& consumed);
  HttpRequest& request() { return request_; }
  const ParseError& error() const { return error_; }
  /// Forgets the current request (keeps the limits).
  void reset();
  const ParserLimits& limits() const { return limits_; }

 private:
  enum class State {
    kRequestLine,
    kHeaders,
    kHeadDone,
    kBodyLength,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kDone,
    kError,
  };
  enum class Line { kFound, kNeedMore, kTooLong, kBareLf };

  Line next_line(std::string_view input, std::size_t pos, std::size_t limit, std::string_view& line,
                 std::size_t& next);
  Progress fail(int status, std::string_view code, std::string_view detail);
  bool parse_request_line(std::string_view line);
  bool parse_header_line(std::string_view line, bool trailer);
  bool finish_head();
  bool parse_chunk_size(std::string_view line);

  ParserLimits limits_;
  State state_ = State::kRequestLine;
  HttpRequest request_;
  ParseError error_;
  std::size_t scanned_ = 0;  ///< bytes of the pending partial line already searched
  std::size_t header_bytes_ = 0;
  std::size_t header_count_ = 0;
  std::uint64_t remaining_ = 0;  ///< body or chunk bytes still to read
};

}  // namespace ingress::http
