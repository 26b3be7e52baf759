#pragma once
#include <cstddef>
#include <pqxx/pqxx>
#include <span>
#include <string>
#include <vector>

#include "worker/apply/apply_plan.hpp"
#include "worker/apply/inbound_event.hpp"
#include "worker/store/pg_array.hpp"

/// Store-internal (includes libpqxx): the entity writes of one EffectPlan, each
/// one prepared statement of pg_statements.hpp fed with binary array parameters.
/// Each write_* appends to `landed` the events whose row changed (RETURNING).
/// Used inside PgMirrorTransaction::apply(); not thread-safe.
namespace worker::store {

/// A finished array as a binary statement parameter.
pqxx::binarystring binary(PgArray& array);
PgArray text_array();
PgArray int8_array();
PgArray int4_array();
PgArray bool_array();

void write_users(pqxx::work& work, std::span<const apply::InboundEvent> events,
                 const std::vector<std::size_t>& winners, std::vector<std::size_t>& landed);
void write_organizations(pqxx::work& work, std::span<const apply::InboundEvent> events,
                         const std::vector<std::size_t>& winners, std::vector<std::size_t>& landed);
void write_memberships(pqxx::work& work, std::span<const apply::InboundEvent> events,
                       const std::vector<std::size_t>& winners, std::vector<std::size_t>& landed);
/// User or organization deletions (`statement`: delete_users | delete_organizations).
void write_deletions(pqxx::work& work, const char* statement,
                     std::span<const apply::InboundEvent> events,
                     const std::vector<std::size_t>& winners, std::vector<std::size_t>& landed);
void write_membership_deletions(pqxx::work& work, std::span<const apply::InboundEvent> events,
                                const std::vector<std::size_t>& winners,
                                std::vector<std::size_t>& landed);
/// Memberships of the plan's deleted users and organizations take their deletion.
void cascade(pqxx::work& work, std::span<const apply::InboundEvent> events,
             const apply::EffectPlan& plan);

}  // namespace worker::store
