-- Sync runs (issue 5): one row per `clerk-mirror backfill`, `reconcile` or
-- `sync` invocation, and the checkpoints an interrupted backfill resumes from.
-- Written by those commands only; the mirror tables stay the worker's.
create schema if not exists clerk;

create table clerk.sync_runs (
  id           bigserial primary key,
  kind         text not null check (kind in ('backfill', 'reconcile', 'sync')),
  -- what the run covered: 'users,organizations,memberships', 'user user_2x...'
  scope        text not null,
  dry_run      boolean not null default false,
  status       text not null default 'running'
               check (status in ('running', 'succeeded', 'failed', 'interrupted')),
  started_at   timestamptz not null default now(),
  finished_at  timestamptz,
  -- per entity kind: pages, fetched, published (and expected on dry runs);
  -- "api": requests, retries, throttled
  counts       jsonb not null default '{}'::jsonb,
  -- reconcile: number of drifted entities and, per kind, the ids that were
  -- missing, stale or gone
  drift_found  bigint not null default 0,
  drift        jsonb not null default '{}'::jsonb,
  error        text,
  -- a backfill that continued the checkpoints of an interrupted one
  resumed_from bigint references clerk.sync_runs (id),
  host         text not null default '',
  pid          integer
);

create index sync_runs_kind_started_idx on clerk.sync_runs (kind, started_at desc);

-- Where an interrupted backfill resumes: one row per phase ('users', or
-- 'organizations', which covers each organization's memberships). Positions
-- are those of a newest-first walk (worker/sync/page_cursor.hpp); deleted when
-- the phase completes.
create table clerk.sync_checkpoints (
  phase                      text primary key check (phase in ('users', 'organizations')),
  run_id                     bigint not null references clerk.sync_runs (id),
  next_offset                bigint not null,
  anchor_created_at_ms       bigint not null,
  anchor_ids                 text[] not null,
  started                    boolean not null,
  done                       boolean not null,
  page_published             boolean not null,
  page_done                  text[] not null,
  inner_organization         text not null,
  inner_next_offset          bigint not null,
  inner_anchor_created_at_ms bigint not null,
  inner_anchor_ids           text[] not null,
  inner_started              boolean not null,
  inner_done                 boolean not null,
  updated_at                 timestamptz not null default now()
);
