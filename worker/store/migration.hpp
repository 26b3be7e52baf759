#pragma once
#include <span>
#include <string_view>

namespace worker::store {

/// One schema migration as shipped in the binary: `schemas/migrations/NNNN_*.sql`,
/// embedded at build time by embed_migrations.cmake.
struct Migration {
  int version;            ///< NNNN
  std::string_view name;  ///< file name, e.g. 0001_create_mirror_tables.sql
  std::string_view sql;   ///< the file's exact text (its checksum is recorded when applied)
};

/// The migrations compiled into this binary, in ascending version order.
std::span<const Migration> embedded_migrations();

}  // namespace worker::store
