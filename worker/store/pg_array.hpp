#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace worker::store {

/// PostgreSQL element types PgArray can hold (their type OIDs).
enum class PgElement : std::uint32_t { kBool = 16, kInt8 = 20, kInt4 = 23, kText = 25 };

/// Builds a one-dimensional PostgreSQL array in the binary wire format
/// (array_send/array_recv), to pass a column of a batch as one binary parameter
/// (e.g. `$1::text[]`, spread server-side with unnest). Binary, so the server does
/// no quoting or escaping work and text needs none: any byte string is one
/// element (the server still checks it is valid text in its encoding). Pure.
class PgArray {
 public:
  explicit PgArray(PgElement element);
  void reserve(std::size_t bytes) { data_.reserve(bytes); }
  void add(std::string_view value);  ///< kText
  void add(std::int64_t value);      ///< kInt8, or kInt4 (must fit)
  void add(bool value);              ///< kBool
  void add(const char*) = delete;    // would pick add(bool)
  void add_null();
  template <typename T>
  void add(const std::optional<T>& value) {
    if (value) {
      add(*value);
    } else {
      add_null();
    }
  }
  std::size_t size() const { return count_; }
  /// The encoded array; the builder starts over, empty.
  std::string finish();

 private:
  void append_u32(std::uint32_t value);
  void reset();
  PgElement element_;
  std::string data_;
  std::uint32_t count_ = 0;
  bool has_null_ = false;
};

}  // namespace worker::store
