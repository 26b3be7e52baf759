#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace worker::store {

/// Builds a PostgreSQL array literal (`{"a",NULL,"b"}`) to pass a column of a
/// batch as one text parameter (cast server-side, e.g. `$1::text[]`, and spread
/// with unnest). Strings are always quoted, with `"` and `\` escaped. Pure.
class PgArray {
 public:
  PgArray() { text_.push_back('{'); }
  void reserve(std::size_t bytes) { text_.reserve(bytes); }
  void add(std::string_view value);
  void add(std::int64_t value);
  void add(bool value);
  void add(const char*) = delete;  // would pick add(bool)
  void add_null();
  template <typename T>
  void add(const std::optional<T>& value) {
    if (value) {
      add(*value);
    } else {
      add_null();
    }
  }
  /// The literal; the builder is left empty.
  std::string finish();

 private:
  void separate();
  std::string text_;
  bool first_ = true;
};

}  // namespace worker::store
