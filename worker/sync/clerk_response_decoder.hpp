#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "worker/sync/api_entity.hpp"

namespace worker::sync {

/// A Clerk Backend API body that does not have the documented shape.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One page of a list endpoint.
struct ApiPage {
  std::vector<ApiEntity> items;
  std::optional<std::int64_t> total_count;  ///< absent for the bare-array user list
};

/// Decodes Clerk Backend API response bodies into ApiEntity values, keeping
/// each entity's exact JSON. The one place in worker/sync that includes
/// simdjson. Pure functions; throw DecodeError naming what is wrong.
namespace clerk_response {

/// `GET /v1/users`: a bare array of users.
ApiPage decode_array(std::string_view body, EntityKind kind);
/// `GET /v1/organizations`, `.../memberships`: `{"data": [...], "total_count": N}`.
ApiPage decode_paginated(std::string_view body, EntityKind kind);
/// `GET /v1/users/{id}`, `GET /v1/organizations/{id}`: one object.
ApiEntity decode_entity(std::string_view body, EntityKind kind);
/// `GET /v1/users/count`: `{"object": "total_count", "total_count": N}`.
std::int64_t decode_total_count(std::string_view body);

}  // namespace clerk_response
}  // namespace worker::sync
