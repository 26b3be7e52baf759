#include "common/events/envelope_codec.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

#include "common/events/event_contract.hpp"

namespace common::events {

namespace dom = simdjson::dom;

struct EnvelopeCodec::Parser {
  dom::parser parser;
  std::string padded;                  ///< the body copied with simdjson's padding after it
  std::vector<std::string_view> keys;  ///< check_values' scratch list, kept to save allocations
};

namespace {

struct Failure {
  EnvelopeError error = EnvelopeError::kNone;
  const char* detail = "";
};

Failure from_simdjson(simdjson::error_code code) {
  switch (code) {
    case simdjson::SUCCESS:
      return {};
    case simdjson::UTF8_ERROR:
      return {EnvelopeError::kInvalidUtf8, "the body is not valid UTF-8"};
    case simdjson::EMPTY:
      return {EnvelopeError::kInvalidJson, "the body is empty"};
    case simdjson::DEPTH_ERROR:
      return {EnvelopeError::kInvalidJson, "the document is nested deeper than 64 levels"};
    case simdjson::NUMBER_ERROR:
      return {EnvelopeError::kInvalidJson, "a number is malformed or out of range"};
    case simdjson::UNESCAPED_CHARS:
      return {EnvelopeError::kInvalidJson, "a string contains an unescaped control character"};
    case simdjson::STRING_ERROR:
      return {EnvelopeError::kInvalidJson, "a string has an invalid escape"};
    default:
      return {EnvelopeError::kInvalidJson, "the body is not valid JSON"};
  }
}

bool has_nul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

/// What check_values needs besides the element: whether strings can hold a NUL at
/// all, and a scratch list of keys shared by the whole walk.
struct ValueCheck {
  bool strings_may_hold_nul;
  std::vector<std::string_view>& keys;
};

// Depth is bounded by the parser (kMaxDepth), so this recursion is too. Each object
// pushes its keys onto `check.keys`, checks them and pops them again, so the keys of
// the object being walked are always the tail of the list.
Failure check_values(dom::element element, ValueCheck& check) {
  switch (element.type()) {
    case dom::element_type::OBJECT: {
      dom::object object;
      if (element.get(object) != simdjson::SUCCESS) return {};
      std::vector<std::string_view>& keys = check.keys;
      const std::size_t first = keys.size();
      for (dom::key_value_pair field : object) {
        if (check.strings_may_hold_nul && has_nul(field.key)) {
          return {EnvelopeError::kNulInString, "a key contains \\u0000"};
        }
        keys.push_back(field.key);
        Failure inner = check_values(field.value, check);
        if (inner.error != EnvelopeError::kNone) return inner;
      }
      auto begin = keys.begin() + static_cast<std::ptrdiff_t>(first);
      std::sort(begin, keys.end());
      const bool repeated = std::adjacent_find(begin, keys.end()) != keys.end();
      keys.resize(first);
      if (repeated) return {EnvelopeError::kDuplicateKey, "an object names the same key twice"};
      return {};
    }
    case dom::element_type::ARRAY: {
      dom::array array;
      if (element.get(array) != simdjson::SUCCESS) return {};
      for (dom::element item : array) {
        Failure inner = check_values(item, check);
        if (inner.error != EnvelopeError::kNone) return inner;
      }
      return {};
    }
    case dom::element_type::STRING: {
      std::string_view text;
      if (check.strings_may_hold_nul && element.get(text) == simdjson::SUCCESS && has_nul(text)) {
        return {EnvelopeError::kNulInString, "a string contains \\u0000"};
      }
      return {};
    }
    default:
      return {};
  }
}

std::optional<std::string> non_empty_string(dom::object object, std::string_view key) {
  std::string_view value;
  if (object.at_key(key).get_string().get(value) != simdjson::SUCCESS || value.empty()) {
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<std::int64_t> timestamp_of(dom::object root) {
  dom::element value;
  if (root.at_key("timestamp").get(value) != simdjson::SUCCESS) return std::nullopt;
  std::int64_t integer = 0;
  if (value.is_int64() && value.get(integer) == simdjson::SUCCESS) {
    return epoch_ms(integer);
  }
  double d = 0;
  if (value.is_double() && value.get(d) == simdjson::SUCCESS) {
    if (!std::isfinite(d) || d < 0 || d > 9.0e18) return std::nullopt;
    return epoch_ms(static_cast<std::int64_t>(d));
  }
  return std::nullopt;  // a uint64 above int64's range, a string, null: no usable event time
}

}  // namespace

std::string_view to_code(EnvelopeError error) {
  switch (error) {
    case EnvelopeError::kNone:
      return "";
    case EnvelopeError::kInvalidJson:
      return "invalid_json";
    case EnvelopeError::kInvalidUtf8:
      return "invalid_utf8";
    case EnvelopeError::kNulInString:
      return "nul_in_string";
    case EnvelopeError::kDuplicateKey:
      return "duplicate_key";
    case EnvelopeError::kInvalidEnvelope:
      return "invalid_envelope";
  }
  return "invalid_json";
}

EnvelopeCodec::EnvelopeCodec() = default;
EnvelopeCodec::~EnvelopeCodec() = default;

std::unique_ptr<EnvelopeCodec::Parser> EnvelopeCodec::acquire() const {
  {
    std::lock_guard lock(mutex_);
    if (!pool_.empty()) {
      auto parser = std::move(pool_.back());
      pool_.pop_back();
      return parser;
    }
  }
  return std::make_unique<Parser>();
}

void EnvelopeCodec::release(std::unique_ptr<Parser> parser) const {
  if (parser->parser.capacity() > kPooledCapacity)
    return;  // freed: one big body must not pin memory
  std::lock_guard lock(mutex_);
  if (pool_.size() < 64) pool_.push_back(std::move(parser));
}

EnvelopeDecodeResult EnvelopeCodec::decode(std::string_view body) const {
  EnvelopeDecodeResult result;
  auto fail = [&result](Failure failure) {
    result.error = failure.error;
    result.detail = failure.detail;
    return result;
  };
  if (body.size() >= 3 && std::memcmp(body.data(), "\xEF\xBB\xBF", 3) == 0) {
    return fail({EnvelopeError::kInvalidJson, "the body starts with a byte order mark"});
  }

  std::unique_ptr<Parser> borrowed = acquire();
  struct Return {
    const EnvelopeCodec* codec;
    std::unique_ptr<Parser>& parser;
    ~Return() { codec->release(std::move(parser)); }
  } give_back{this, borrowed};

  dom::parser& parser = borrowed->parser;
  if (parser.capacity() < body.size() || parser.max_depth() != kMaxDepth) {
    if (parser.allocate(std::max<std::size_t>(body.size(), 4096), kMaxDepth) != simdjson::SUCCESS) {
      return fail({EnvelopeError::kInvalidJson, "the body is too large to parse"});
    }
  }
  std::string& padded = borrowed->padded;
  padded.assign(body.data(), body.size());
  padded.resize(body.size() + simdjson::SIMDJSON_PADDING);

  dom::element root;
  if (auto code = parser.parse(padded.data(), body.size(), false).get(root);
      code != simdjson::SUCCESS) {
    return fail(from_simdjson(code));
  }
  // simdjson rejects raw control characters inside strings, so a decoded string can
  // hold a NUL only where the body spells the escape `\u0000`; most bodies never do,
  // and then no string needs scanning.
  ValueCheck check{body.find("\\u0000") != std::string_view::npos, borrowed->keys};
  check.keys.clear();
  if (Failure failure = check_values(root, check); failure.error != EnvelopeError::kNone) {
    return fail(failure);
  }

  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return fail({EnvelopeError::kInvalidEnvelope, "the top level is not an object"});
  }
  std::string_view type;
  if (object.at_key("type").get_string().get(type) != simdjson::SUCCESS) {
    return fail({EnvelopeError::kInvalidEnvelope, "`type` is missing or not a string"});
  }
  if (type.empty()) return fail({EnvelopeError::kInvalidEnvelope, "`type` is empty"});
  dom::object data;
  if (object.at_key("data").get_object().get(data) != simdjson::SUCCESS) {
    return fail({EnvelopeError::kInvalidEnvelope, "`data` is missing or not an object"});
  }

  EnvelopeFacts& facts = result.facts;
  facts.type = std::string(type);
  facts.timestamp_ms = timestamp_of(object);
  facts.data_id = non_empty_string(data, "id");
  dom::object organization;
  if (data.at_key("organization").get_object().get(organization) == simdjson::SUCCESS) {
    facts.data_organization_id = non_empty_string(organization, "id");
  }
  facts.data_organization_id_field = non_empty_string(data, "organization_id");
  facts.data_user_id = non_empty_string(data, "user_id");
  return result;
}

}  // namespace common::events
