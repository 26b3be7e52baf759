#include "worker/store/pg_array.hpp"

#include <stdexcept>

namespace worker::store {
namespace {

// Header: ndim, has-null flag, element OID, then (length, lower bound) per dimension.
constexpr std::size_t kHeaderBytes = 20;

void put_u32(char* out, std::uint32_t v) {
  out[0] = static_cast<char>((v >> 24) & 0xff);
  out[1] = static_cast<char>((v >> 16) & 0xff);
  out[2] = static_cast<char>((v >> 8) & 0xff);
  out[3] = static_cast<char>(v & 0xff);
}

}  // namespace

PgArray::PgArray(PgElement element) : element_(element) {
  reset();
}

void PgArray::reset() {
  data_.assign(kHeaderBytes, '\0');
  count_ = 0;
  has_null_ = false;
}

void PgArray::append_u32(std::uint32_t value) {
  char bytes[4];
  put_u32(bytes, value);
  data_.append(bytes, 4);
}

void PgArray::add(std::string_view value) {
  if (element_ != PgElement::kText) throw std::logic_error("PgArray: text into a non-text array");
  append_u32(static_cast<std::uint32_t>(value.size()));
  data_.append(value);
  ++count_;
}

void PgArray::add(std::int64_t value) {
  auto bits = static_cast<std::uint64_t>(value);
  if (element_ == PgElement::kInt8) {
    append_u32(8);
    append_u32(static_cast<std::uint32_t>(bits >> 32));
    append_u32(static_cast<std::uint32_t>(bits & 0xffffffffu));
  } else if (element_ == PgElement::kInt4) {
    if (value < INT32_MIN || value > INT32_MAX) throw std::range_error("PgArray: int4 overflow");
    append_u32(4);
    append_u32(static_cast<std::uint32_t>(bits & 0xffffffffu));
  } else {
    throw std::logic_error("PgArray: integer into a non-integer array");
  }
  ++count_;
}

void PgArray::add(bool value) {
  if (element_ != PgElement::kBool) throw std::logic_error("PgArray: bool into a non-bool array");
  append_u32(1);
  data_.push_back(value ? '\1' : '\0');
  ++count_;
}

void PgArray::add_null() {
  append_u32(0xffffffffu);  // length -1
  has_null_ = true;
  ++count_;
}

std::string PgArray::finish() {
  std::string out;
  if (count_ == 0) {
    // An empty array has no dimensions.
    out.assign(12, '\0');
    put_u32(out.data() + 8, static_cast<std::uint32_t>(element_));
  } else {
    put_u32(data_.data(), 1);
    put_u32(data_.data() + 4, has_null_ ? 1 : 0);
    put_u32(data_.data() + 8, static_cast<std::uint32_t>(element_));
    put_u32(data_.data() + 12, count_);
    put_u32(data_.data() + 16, 1);
    out.swap(data_);
  }
  reset();
  return out;
}

}  // namespace worker::store
