#include "worker/store/pg_array.hpp"

namespace worker::store {

void PgArray::separate() {
  if (!first_) text_ += ',';
  first_ = false;
}

void PgArray::add(std::string_view value) {
  separate();
  text_ += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
}

void PgArray::add(std::int64_t value) {
  separate();
  text_ += std::to_string(value);
}

void PgArray::add(bool value) {
  separate();
  text_ += value ? 't' : 'f';
}

void PgArray::add_null() {
  separate();
  text_ += "NULL";
}

std::string PgArray::finish() {
  text_ += '}';
  std::string out;
  out.swap(text_);
  text_.push_back('{');
  first_ = true;
  return out;
}

}  // namespace worker::store
