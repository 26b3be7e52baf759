#include "worker/sync/clerk_response_decoder.hpp"

#include <simdjson.h>

namespace worker::sync::clerk_response {
namespace {

namespace od = simdjson::ondemand;

std::string describe(simdjson::error_code error) {
  return simdjson::error_message(error);
}

// Parses a JSON text (`what`: "body" or "entity", for errors); the document
// borrows `parser` and `padded`.
od::document parse(od::parser& parser, const simdjson::padded_string& padded,
                   std::string_view what = "body") {
  od::document doc;
  if (auto error = parser.iterate(padded).get(doc)) {
    throw DecodeError(std::string(what) + " is not JSON (" + describe(error) + ")");
  }
  return doc;
}

od::object object_of(od::document& doc, std::string_view what = "body") {
  od::object object;
  if (auto error = doc.get_object().get(object)) {
    throw DecodeError(std::string(what) + " is not a JSON object (" + describe(error) + ")");
  }
  return object;
}

std::string_view required_string(od::object& object, std::string_view field,
                                 std::string_view where) {
  std::string_view value;
  auto error = object.find_field_unordered(field).get_string().get(value);
  if (error) {
    throw DecodeError(std::string(where) + ": field '" + std::string(field) +
                      "' missing or not a string (" + describe(error) + ")");
  }
  return value;
}

std::int64_t required_int(od::object& object, std::string_view field, std::string_view where) {
  std::int64_t value = 0;
  auto error = object.find_field_unordered(field).get_int64().get(value);
  if (error) {
    throw DecodeError(std::string(where) + ": field '" + std::string(field) +
                      "' missing or not an integer (" + describe(error) + ")");
  }
  return value;
}

// Extracts the fields the sync code needs from one entity's own JSON text.
ApiEntity decode_object_text(std::string_view raw, EntityKind kind) {
  simdjson::padded_string padded(raw);
  od::parser parser;
  od::document doc = parse(parser, padded, "entity");
  od::object object = object_of(doc, "entity");
  ApiEntity entity;
  entity.raw_json = std::string(raw);
  entity.id = std::string(required_string(object, "id", object_name(kind)));
  std::string where = std::string(object_name(kind)) + " " + entity.id;
  entity.created_at_ms = required_int(object, "created_at", where);
  entity.updated_at_ms = required_int(object, "updated_at", where);
  if (kind == EntityKind::kMembership) {
    od::object organization;
    if (auto error = object.find_field_unordered("organization").get_object().get(organization)) {
      throw DecodeError(where + ": field 'organization' missing or not an object (" +
                        describe(error) + ")");
    }
    entity.organization_id = std::string(required_string(organization, "id", where));
    od::object user_data;
    if (!object.find_field_unordered("public_user_data").get_object().get(user_data)) {
      std::string_view user_id;
      if (!user_data.find_field_unordered("user_id").get_string().get(user_id)) {
        entity.user_id = std::string(user_id);
      }
    }
  }
  return entity;
}

std::vector<ApiEntity> decode_elements(od::array& array, EntityKind kind) {
  std::vector<ApiEntity> items;
  for (auto element : array) {
    od::object object;
    if (auto error = element.get_object().get(object)) {
      throw DecodeError("list element is not an object (" + describe(error) + ")");
    }
    std::string_view raw;
    if (auto error = object.raw_json().get(raw)) {
      throw DecodeError("list element is not valid JSON (" + describe(error) + ")");
    }
    items.push_back(decode_object_text(raw, kind));
  }
  return items;
}

}  // namespace

ApiPage decode_array(std::string_view body, EntityKind kind) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc = parse(parser, padded);
  od::array array;
  if (auto error = doc.get_array().get(array)) {
    throw DecodeError("body is not a JSON array (" + describe(error) + ")");
  }
  ApiPage page;
  page.items = decode_elements(array, kind);
  return page;
}

ApiPage decode_paginated(std::string_view body, EntityKind kind) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc = parse(parser, padded);
  od::object object = object_of(doc);
  ApiPage page;
  od::array array;
  if (auto error = object.find_field_unordered("data").get_array().get(array)) {
    throw DecodeError("field 'data' missing or not an array (" + describe(error) + ")");
  }
  page.items = decode_elements(array, kind);
  std::int64_t total = 0;
  if (!object.find_field_unordered("total_count").get_int64().get(total)) page.total_count = total;
  return page;
}

ApiEntity decode_entity(std::string_view body, EntityKind kind) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc = parse(parser, padded);
  std::string_view raw;
  if (auto error = doc.raw_json().get(raw)) {
    throw DecodeError("body is not valid JSON (" + describe(error) + ")");
  }
  return decode_object_text(simdjson::trim(raw), kind);
}

std::int64_t decode_total_count(std::string_view body) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc = parse(parser, padded);
  od::object object = object_of(doc);
  return required_int(object, "total_count", "count");
}

}  // namespace worker::sync::clerk_response
