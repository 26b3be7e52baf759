-- clerk-mirror: the mirrored entities, the worker's offsets and its audit trail.
-- Never edit this file once it has landed: add a new NNNN_verb_object.sql instead.
--
-- Versioning (design contract 5, issue 4). Every entity row carries two
-- independently versioned halves, each ordered by the total order
-- (version, event timestamp, event id):
--   fields   : version / version_event_ts / version_event_id, written by upserts
--              (version = the entity's updated_at in ms);
--   deletion : deleted_version / deleted_event_ts / deleted_event_id, written by
--              deletes (version = the envelope timestamp in ms) and, for
--              memberships, by the deletion of their user or organization.
-- A row is deleted (deleted_at not null) when its deletion key is greater than
-- its fields key. The final row is therefore a function of the set of events
-- seen, not of their delivery order. No foreign keys: events arrive in any order.

create schema if not exists clerk;

-- Milliseconds since the epoch to timestamptz (immutable, so it can be inlined).
create function clerk.ms_to_timestamptz(ms bigint) returns timestamptz
  language sql immutable strict parallel safe
  as $$ select to_timestamp(ms / 1000.0) $$;

create table clerk.users (
  id                        text primary key,
  created_at                timestamptz,
  updated_at                timestamptz,
  deleted_at                timestamptz,
  first_name                text,
  last_name                 text,
  username                  text,
  image_url                 text,
  external_id               text,
  primary_email_address     text,
  primary_phone_number      text,
  primary_email_address_id  text,
  primary_phone_number_id   text,
  email_addresses           jsonb,
  phone_numbers             jsonb,
  public_metadata           jsonb,
  private_metadata          jsonb,
  unsafe_metadata           jsonb,
  banned                    boolean,
  locked                    boolean,
  last_sign_in_at           timestamptz,
  payload                   jsonb,
  version                   bigint,
  version_event_ts          bigint,
  version_event_id          text collate "C",
  deleted_version           bigint,
  deleted_event_ts          bigint,
  deleted_event_id          text collate "C",
  last_event_id             text collate "C" generated always as
                              (case when deleted_at is not null then deleted_event_id
                                    else version_event_id end) stored,
  synced_at                 timestamptz not null default now()
);
create index users_external_id_idx on clerk.users (external_id) where external_id is not null;
create index users_primary_email_address_idx on clerk.users (lower(primary_email_address))
  where primary_email_address is not null;

create table clerk.organizations (
  id                        text primary key,
  created_at                timestamptz,
  updated_at                timestamptz,
  deleted_at                timestamptz,
  name                      text,
  slug                      text,
  image_url                 text,
  members_count             integer,
  max_allowed_memberships   integer,
  admin_delete_enabled      boolean,
  created_by                text,
  public_metadata           jsonb,
  private_metadata          jsonb,
  payload                   jsonb,
  version                   bigint,
  version_event_ts          bigint,
  version_event_id          text collate "C",
  deleted_version           bigint,
  deleted_event_ts          bigint,
  deleted_event_id          text collate "C",
  last_event_id             text collate "C" generated always as
                              (case when deleted_at is not null then deleted_event_id
                                    else version_event_id end) stored,
  synced_at                 timestamptz not null default now()
);
-- Not unique: a slug freed by a deletion may be reused, and events arrive in any order.
create index organizations_slug_idx on clerk.organizations (slug) where slug is not null;

create table clerk.organization_memberships (
  id                        text primary key,
  created_at                timestamptz,
  updated_at                timestamptz,
  deleted_at                timestamptz,
  organization_id           text,
  user_id                   text,
  role                      text,
  role_name                 text,
  permissions               jsonb,
  public_metadata           jsonb,
  private_metadata          jsonb,
  organization              jsonb,   -- the nested organization reference as delivered
  public_user_data          jsonb,   -- the nested user reference as delivered
  payload                   jsonb,
  version                   bigint,
  version_event_ts          bigint,
  version_event_id          text collate "C",
  deleted_version           bigint,
  deleted_event_ts          bigint,
  deleted_event_id          text collate "C",
  last_event_id             text collate "C" generated always as
                              (case when deleted_at is not null then deleted_event_id
                                    else version_event_id end) stored,
  synced_at                 timestamptz not null default now()
);
create index organization_memberships_organization_id_idx
  on clerk.organization_memberships (organization_id);
create index organization_memberships_user_id_idx on clerk.organization_memberships (user_id);

-- Where each consumer group stands, written in the same transaction as the
-- effects (design contract 7). next_offset is the next offset to read.
create table clerk.consumer_offsets (
  consumer_group  text not null,
  topic           text not null,
  partition       integer not null,
  next_offset     bigint not null,
  updated_at      timestamptz not null default now(),
  primary key (consumer_group, topic, partition)
);

-- One row per consumed Kafka record: the audit trail and the duplicate filter.
create table clerk.applied_events (
  topic           text not null,
  partition       integer not null,
  kafka_offset    bigint not null,
  event_id        text collate "C" not null,
  event_type      text not null,
  entity_type     text,      -- user | organization | organization_membership
  entity_id       text,
  version         bigint,    -- the event's version (updated_at or delete timestamp, ms)
  outcome         text not null check (outcome in
                    ('applied', 'stale', 'duplicate', 'ignored', 'retried', 'dead_lettered')),
  source          text not null,
  attempt         integer not null default 0,
  consumer_group  text not null,
  applied_at      timestamptz not null default now(),
  primary key (topic, partition, kafka_offset)
);
create index applied_events_event_id_idx on clerk.applied_events (event_id);
create index applied_events_applied_at_idx on clerk.applied_events using brin (applied_at);

-- Event types the mirror does not keep (session.*, email.*, future ones): counted here
-- and recorded with outcome 'ignored' in applied_events.
create table clerk.ignored_event_types (
  event_type      text primary key,
  events          bigint not null,
  first_seen_at   timestamptz not null default now(),
  last_seen_at    timestamptz not null default now(),
  last_event_id   text
);
