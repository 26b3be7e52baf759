#pragma once
#include <string>

/// The SQL of PgMirrorStore, prepared once per connection. Every batch column is
/// one array parameter spread with unnest. Rows arrive sorted by id (bytewise):
/// the executor keeps that order, so rows are locked in id order without a sort. Entity writes
/// compare keys with row comparisons on (version, event ts, event id); event ids are COLLATE "C",
/// so SQL orders them bytewise exactly like worker::apply::OrderKey.
namespace worker::store::sql {

inline constexpr const char* kClaimInsert = R"sql(
insert into clerk.consumer_offsets (consumer_group, topic, partition, next_offset)
select $1, r.topic, r.partition, r.first_offset
from unnest($2::text[], $3::integer[], $4::bigint[]) as r(topic, partition, first_offset)
order by r.topic, r.partition
on conflict do nothing)sql";

inline constexpr const char* kClaimLock = R"sql(
select o.topic, o.partition, o.next_offset
from clerk.consumer_offsets o
join unnest($2::text[], $3::integer[]) as r(topic, partition)
  on o.topic = r.topic and o.partition = r.partition
where o.consumer_group = $1
order by o.topic, o.partition
for update of o)sql";

inline constexpr const char* kStoreOffsets = R"sql(
update clerk.consumer_offsets o
set next_offset = r.next_offset, updated_at = now()
from unnest($2::text[], $3::integer[], $4::bigint[]) as r(topic, partition, next_offset)
where o.consumer_group = $1 and o.topic = r.topic and o.partition = r.partition)sql";

inline constexpr const char* kLoadOffsets = R"sql(
select topic, partition, next_offset from clerk.consumer_offsets where consumer_group = $1)sql";

inline constexpr const char* kKnownEventIds = R"sql(
select distinct event_id from clerk.applied_events
where event_id = any($1::text[]) and outcome in ('applied', 'stale'))sql";

inline constexpr const char* kLockShared = "select pg_advisory_xact_lock_shared($1)";
inline constexpr const char* kLockExclusive = "select pg_advisory_xact_lock($1)";

inline constexpr const char* kUpsertUsers = R"sql(
insert into clerk.users as t (
  id, created_at, updated_at, last_sign_in_at, first_name, last_name, username, image_url,
  external_id, primary_email_address, primary_phone_number, primary_email_address_id,
  primary_phone_number_id, banned, locked, email_addresses, phone_numbers, public_metadata,
  private_metadata, unsafe_metadata, payload, version, version_event_ts, version_event_id,
  synced_at)
select s.id, clerk.ms_to_timestamptz(s.created_at), clerk.ms_to_timestamptz(s.updated_at),
  clerk.ms_to_timestamptz(s.last_sign_in_at), s.first_name, s.last_name, s.username,
  s.image_url, s.external_id, s.primary_email_address, s.primary_phone_number,
  s.primary_email_address_id, s.primary_phone_number_id, s.banned, s.locked,
  nullif(s.p -> 'email_addresses', 'null'), nullif(s.p -> 'phone_numbers', 'null'),
  nullif(s.p -> 'public_metadata', 'null'), nullif(s.p -> 'private_metadata', 'null'),
  nullif(s.p -> 'unsafe_metadata', 'null'), s.p, s.version, s.event_ts, s.event_id, now()
from (
  -- offset 0 keeps the subquery, so each payload is parsed into jsonb once
  select u.*, u.payload::jsonb as p
  from unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
              $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
              $13::text[], $14::boolean[], $15::boolean[], $16::text[], $17::bigint[],
              $18::bigint[], $19::text[])
    as u(id, created_at, updated_at, last_sign_in_at, first_name, last_name, username,
         image_url, external_id, primary_email_address, primary_phone_number,
         primary_email_address_id, primary_phone_number_id, banned, locked, payload, version,
         event_ts, event_id)
  offset 0) s
on conflict (id) do update set
  created_at = excluded.created_at, updated_at = excluded.updated_at,
  last_sign_in_at = excluded.last_sign_in_at, first_name = excluded.first_name,
  last_name = excluded.last_name, username = excluded.username, image_url = excluded.image_url,
  external_id = excluded.external_id, primary_email_address = excluded.primary_email_address,
  primary_phone_number = excluded.primary_phone_number,
  primary_email_address_id = excluded.primary_email_address_id,
  primary_phone_number_id = excluded.primary_phone_number_id, banned = excluded.banned,
  locked = excluded.locked, email_addresses = excluded.email_addresses,
  phone_numbers = excluded.phone_numbers, public_metadata = excluded.public_metadata,
  private_metadata = excluded.private_metadata, unsafe_metadata = excluded.unsafe_metadata,
  payload = excluded.payload, version = excluded.version,
  version_event_ts = excluded.version_event_ts, version_event_id = excluded.version_event_id,
  deleted_at = case
    when t.deleted_version is not null
     and (t.deleted_version, t.deleted_event_ts, t.deleted_event_id)
       > (excluded.version, excluded.version_event_ts, excluded.version_event_id)
    then clerk.ms_to_timestamptz(t.deleted_version) end,
  synced_at = excluded.synced_at
where t.version is null
   or (t.version, t.version_event_ts, t.version_event_id)
    < (excluded.version, excluded.version_event_ts, excluded.version_event_id)
returning t.id)sql";

inline constexpr const char* kUpsertOrganizations = R"sql(
insert into clerk.organizations as t (
  id, created_at, updated_at, name, slug, image_url, created_by, members_count,
  max_allowed_memberships, admin_delete_enabled, public_metadata, private_metadata, payload,
  version, version_event_ts, version_event_id, synced_at)
select s.id, clerk.ms_to_timestamptz(s.created_at), clerk.ms_to_timestamptz(s.updated_at),
  s.name, s.slug, s.image_url, s.created_by, s.members_count, s.max_allowed_memberships,
  s.admin_delete_enabled, nullif(s.p -> 'public_metadata', 'null'),
  nullif(s.p -> 'private_metadata', 'null'), s.p, s.version, s.event_ts, s.event_id, now()
from (
  select o.*, o.payload::jsonb as p
  from unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::bigint[], $9::bigint[], $10::boolean[], $11::text[],
              $12::bigint[], $13::bigint[], $14::text[])
    as o(id, created_at, updated_at, name, slug, image_url, created_by, members_count,
         max_allowed_memberships, admin_delete_enabled, payload, version, event_ts, event_id)
  offset 0) s
on conflict (id) do update set
  created_at = excluded.created_at, updated_at = excluded.updated_at, name = excluded.name,
  slug = excluded.slug, image_url = excluded.image_url, created_by = excluded.created_by,
  members_count = excluded.members_count,
  max_allowed_memberships = excluded.max_allowed_memberships,
  admin_delete_enabled = excluded.admin_delete_enabled,
  public_metadata = excluded.public_metadata, private_metadata = excluded.private_metadata,
  payload = excluded.payload, version = excluded.version,
  version_event_ts = excluded.version_event_ts, version_event_id = excluded.version_event_id,
  deleted_at = case
    when t.deleted_version is not null
     and (t.deleted_version, t.deleted_event_ts, t.deleted_event_id)
       > (excluded.version, excluded.version_event_ts, excluded.version_event_id)
    then clerk.ms_to_timestamptz(t.deleted_version) end,
  synced_at = excluded.synced_at
where t.version is null
   or (t.version, t.version_event_ts, t.version_event_id)
    < (excluded.version, excluded.version_event_ts, excluded.version_event_id)
returning t.id)sql";

// A membership inserted after its user or organization was deleted starts out
// deleted with the parent's deletion key (the lateral lookup); memberships that
// already exist get it from the cascade statement below. Both run under the
// cascade advisory lock, so neither misses the other.
inline constexpr const char* kUpsertMemberships = R"sql(
insert into clerk.organization_memberships as t (
  id, created_at, updated_at, organization_id, user_id, role, role_name, permissions,
  public_metadata, private_metadata, organization, public_user_data, payload, version,
  version_event_ts, version_event_id, deleted_version, deleted_event_ts, deleted_event_id,
  deleted_at, synced_at)
select s.id, clerk.ms_to_timestamptz(s.created_at), clerk.ms_to_timestamptz(s.updated_at),
  s.organization_id, s.user_id, s.role, s.role_name, nullif(s.p -> 'permissions', 'null'),
  nullif(s.p -> 'public_metadata', 'null'), nullif(s.p -> 'private_metadata', 'null'),
  nullif(s.p -> 'organization', 'null'), nullif(s.p -> 'public_user_data', 'null'), s.p,
  s.version, s.event_ts, s.event_id, par.v, par.ts, par.eid,
  case when par.v is not null
        and (par.v, par.ts, par.eid) > (s.version, s.event_ts, s.event_id collate "C")
       then clerk.ms_to_timestamptz(par.v) end,
  now()
from (
  select m.*, m.payload::jsonb as p
  from unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[])
    as m(id, created_at, updated_at, organization_id, user_id, role, role_name, payload,
         version, event_ts, event_id)
  offset 0) s
left join lateral (
  select y.v, y.ts, y.eid from (
    select u.deleted_version as v, u.deleted_event_ts as ts, u.deleted_event_id as eid
    from clerk.users u where u.id = s.user_id and u.deleted_version is not null
    union all
    select o.deleted_version, o.deleted_event_ts, o.deleted_event_id
    from clerk.organizations o where o.id = s.organization_id and o.deleted_version is not null
  ) y order by y.v desc, y.ts desc, y.eid desc limit 1) par on true
on conflict (id) do update set
  created_at = excluded.created_at, updated_at = excluded.updated_at,
  organization_id = excluded.organization_id, user_id = excluded.user_id,
  role = excluded.role, role_name = excluded.role_name, permissions = excluded.permissions,
  public_metadata = excluded.public_metadata, private_metadata = excluded.private_metadata,
  organization = excluded.organization, public_user_data = excluded.public_user_data,
  payload = excluded.payload, version = excluded.version,
  version_event_ts = excluded.version_event_ts, version_event_id = excluded.version_event_id,
  deleted_at = case
    when t.deleted_version is not null
     and (t.deleted_version, t.deleted_event_ts, t.deleted_event_id)
       > (excluded.version, excluded.version_event_ts, excluded.version_event_id)
    then clerk.ms_to_timestamptz(t.deleted_version) end,
  synced_at = excluded.synced_at
where t.version is null
   or (t.version, t.version_event_ts, t.version_event_id)
    < (excluded.version, excluded.version_event_ts, excluded.version_event_id)
returning t.id)sql";

// Deletions of users and organizations: the same statement for both tables.
inline std::string delete_entities(const std::string& table) {
  return "insert into " + table + R"sql( as t (id, deleted_version, deleted_event_ts,
  deleted_event_id, deleted_at, synced_at)
select d.id, d.v, d.ts, d.eid, clerk.ms_to_timestamptz(d.v), now()
from unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) as d(id, v, ts, eid)
on conflict (id) do update set
  deleted_version = excluded.deleted_version,
  deleted_event_ts = excluded.deleted_event_ts,
  deleted_event_id = excluded.deleted_event_id,
  deleted_at = case
    when t.version is null
      or (excluded.deleted_version, excluded.deleted_event_ts, excluded.deleted_event_id)
       > (t.version, t.version_event_ts, t.version_event_id)
    then excluded.deleted_at end,
  synced_at = excluded.synced_at
where t.deleted_version is null
   or (t.deleted_version, t.deleted_event_ts, t.deleted_event_id)
    < (excluded.deleted_version, excluded.deleted_event_ts, excluded.deleted_event_id)
returning t.id)sql";
}

inline constexpr const char* kDeleteMemberships = R"sql(
insert into clerk.organization_memberships as t (id, organization_id, user_id,
  deleted_version, deleted_event_ts, deleted_event_id, deleted_at, synced_at)
select d.id, d.organization_id, d.user_id, d.v, d.ts, d.eid, clerk.ms_to_timestamptz(d.v), now()
from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[])
  as d(id, organization_id, user_id, v, ts, eid)
on conflict (id) do update set
  deleted_version = excluded.deleted_version,
  deleted_event_ts = excluded.deleted_event_ts,
  deleted_event_id = excluded.deleted_event_id,
  deleted_at = case
    when t.version is null
      or (excluded.deleted_version, excluded.deleted_event_ts, excluded.deleted_event_id)
       > (t.version, t.version_event_ts, t.version_event_id)
    then excluded.deleted_at end,
  synced_at = excluded.synced_at
where t.deleted_version is null
   or (t.deleted_version, t.deleted_event_ts, t.deleted_event_id)
    < (excluded.deleted_version, excluded.deleted_event_ts, excluded.deleted_event_id)
returning t.id)sql";

// After users/organizations were deleted: every membership hanging on one of them
// takes the greatest deletion key among its user and organization, when greater
// than its own.
inline constexpr const char* kCascadeMemberships = R"sql(
update clerk.organization_memberships as t
set deleted_version = p.v, deleted_event_ts = p.ts, deleted_event_id = p.eid,
    deleted_at = case
      when t.version is null
        or (p.v, p.ts, p.eid) > (t.version, t.version_event_ts, t.version_event_id)
      then clerk.ms_to_timestamptz(p.v) end,
    synced_at = now()
from (
  select m.id, x.v, x.ts, x.eid
  from clerk.organization_memberships m
  cross join lateral (
    select y.v, y.ts, y.eid from (
      select u.deleted_version as v, u.deleted_event_ts as ts, u.deleted_event_id as eid
      from clerk.users u where u.id = m.user_id and u.deleted_version is not null
      union all
      select o.deleted_version, o.deleted_event_ts, o.deleted_event_id
      from clerk.organizations o where o.id = m.organization_id and o.deleted_version is not null
    ) y order by y.v desc, y.ts desc, y.eid desc limit 1) x
  where m.user_id = any($1::text[]) or m.organization_id = any($2::text[])
) p
where t.id = p.id
  and (t.deleted_version is null
       or (t.deleted_version, t.deleted_event_ts, t.deleted_event_id) < (p.v, p.ts, p.eid)))sql";

inline constexpr const char* kRecordAudit = R"sql(
insert into clerk.applied_events (topic, partition, kafka_offset, event_id, event_type,
  entity_type, entity_id, version, outcome, source, attempt, consumer_group)
select a.topic, a.partition, a.kafka_offset, a.event_id, a.event_type, a.entity_type,
  a.entity_id, a.version, a.outcome, a.source, a.attempt, $12
from unnest($1::text[], $2::integer[], $3::bigint[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::bigint[], $9::text[], $10::text[], $11::integer[])
  as a(topic, partition, kafka_offset, event_id, event_type, entity_type, entity_id, version,
       outcome, source, attempt)
on conflict do nothing)sql";

inline constexpr const char* kRecordIgnored = R"sql(
insert into clerk.ignored_event_types as t (event_type, events, last_event_id)
select * from unnest($1::text[], $2::bigint[], $3::text[])
on conflict (event_type) do update set
  events = t.events + excluded.events, last_seen_at = now(),
  last_event_id = excluded.last_event_id)sql";

inline constexpr const char* kPruneAudit = R"sql(
with doomed as (
  select ctid from clerk.applied_events
  where applied_at < now() - make_interval(hours => $1) limit $2)
delete from clerk.applied_events where ctid in (select ctid from doomed))sql";

}  // namespace worker::store::sql
