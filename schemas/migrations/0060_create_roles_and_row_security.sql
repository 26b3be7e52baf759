-- clerk-mirror: SQL roles for the mirror's readers and writer, and row-level
-- security so that a gateway (PostgREST, Hasura) can show a signed-in user only
-- their own rows. Never edit this file once it has landed.
--
-- Roles (NOLOGIN; grant them to the login roles that need them):
--   clerk_mirror_reader  reads every row of the mirrored tables (analytics, support)
--   clerk_mirror_user    reads the rows of the user the request is for: their user row,
--                        their memberships, and the organizations they are a member of
--   clerk_mirror_writer  what a worker needs when it does not own the schema (runs
--                        with WORKER_MIGRATE=false; migrations need the owner)
-- The owner of the tables (the role that ran the migrations) is not subject to the
-- policies: the worker that migrates keeps writing as before.

-- Whether the current role is a member of `role_name`; false when that role does not
-- exist (a migrating role without CREATEROLE could not create it).
create function clerk.has_mirror_role(role_name text) returns boolean
  language sql stable
  as $$
    select coalesce((select pg_has_role(current_user, r.oid, 'MEMBER')
                       from pg_roles r where r.rolname = role_name), false)
  $$;

-- The Clerk user id a request is for, from the first of:
--   clerk_mirror.user_id        set it yourself: set local clerk_mirror.user_id = 'user_...'
--   request.jwt.claims ->> sub  PostgREST (a Clerk session token's sub is the user id)
--   hasura.user ->> x-hasura-user-id   Hasura
-- null when none is set (then the user policies show nothing).
create function clerk.request_user_id() returns text
  language sql stable
  as $$
    select coalesce(
      nullif(current_setting('clerk_mirror.user_id', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub',
      nullif(current_setting('hasura.user', true), '')::jsonb ->> 'x-hasura-user-id')
  $$;

-- Creates the three roles where allowed, and (again, idempotently) grants them their
-- privileges. An administrator who created the roles after the migration ran, because
-- the migrating role could not, runs `select clerk.grant_mirror_roles();` as the owner.
create function clerk.grant_mirror_roles() returns void
  language plpgsql
  as $$
  declare
    role_name text;
  begin
    foreach role_name in array array['clerk_mirror_reader', 'clerk_mirror_user',
                                     'clerk_mirror_writer'] loop
      if not exists (select from pg_roles where rolname = role_name) then
        begin
          execute format('create role %I nologin', role_name);
        exception
          when insufficient_privilege then
            raise notice 'clerk-mirror: role % not created (needs CREATEROLE); create it and run select clerk.grant_mirror_roles();', role_name;
          when duplicate_object or unique_violation then
            null;  -- created meanwhile by a concurrent migration in another database
        end;
      end if;
    end loop;
    if exists (select from pg_roles where rolname = 'clerk_mirror_reader') then
      grant usage on schema clerk to clerk_mirror_reader;
      grant select on clerk.users, clerk.organizations, clerk.organization_memberships
        to clerk_mirror_reader;
    end if;
    if exists (select from pg_roles where rolname = 'clerk_mirror_user') then
      grant usage on schema clerk to clerk_mirror_user;
      grant select on clerk.users, clerk.organizations, clerk.organization_memberships
        to clerk_mirror_user;
    end if;
    if exists (select from pg_roles where rolname = 'clerk_mirror_writer') then
      grant usage on schema clerk to clerk_mirror_writer;
      grant select, insert, update, delete on
        clerk.users, clerk.organizations, clerk.organization_memberships,
        clerk.consumer_offsets, clerk.applied_events, clerk.ignored_event_types,
        clerk.sync_runs, clerk.sync_checkpoints
        to clerk_mirror_writer;
      grant select on clerk.schema_migrations to clerk_mirror_writer;
      grant usage on all sequences in schema clerk to clerk_mirror_writer;
    end if;
  end
  $$;

select clerk.grant_mirror_roles();

-- Row-level security on the mirrored tables (ENABLE, not FORCE: the owner is exempt).
-- Policies are permissive and ORed; the role checks run once per query (initplans).
alter table clerk.users enable row level security;
alter table clerk.organizations enable row level security;
alter table clerk.organization_memberships enable row level security;

create policy mirror_writer on clerk.users for all
  using ((select clerk.has_mirror_role('clerk_mirror_writer')))
  with check ((select clerk.has_mirror_role('clerk_mirror_writer')));
create policy mirror_writer on clerk.organizations for all
  using ((select clerk.has_mirror_role('clerk_mirror_writer')))
  with check ((select clerk.has_mirror_role('clerk_mirror_writer')));
create policy mirror_writer on clerk.organization_memberships for all
  using ((select clerk.has_mirror_role('clerk_mirror_writer')))
  with check ((select clerk.has_mirror_role('clerk_mirror_writer')));

create policy mirror_reader on clerk.users for select
  using ((select clerk.has_mirror_role('clerk_mirror_reader')));
create policy mirror_reader on clerk.organizations for select
  using ((select clerk.has_mirror_role('clerk_mirror_reader')));
create policy mirror_reader on clerk.organization_memberships for select
  using ((select clerk.has_mirror_role('clerk_mirror_reader')));

-- A signed-in user: their own row, their alive memberships, and the organizations
-- they are an alive member of. Deleted rows of their own stay visible as deleted.
create policy own_rows on clerk.users for select
  using ((select clerk.has_mirror_role('clerk_mirror_user'))
         and id = (select clerk.request_user_id()));
create policy own_rows on clerk.organization_memberships for select
  using ((select clerk.has_mirror_role('clerk_mirror_user'))
         and user_id = (select clerk.request_user_id()));
create policy own_rows on clerk.organizations for select
  using ((select clerk.has_mirror_role('clerk_mirror_user'))
         and exists (select 1 from clerk.organization_memberships m
                      where m.organization_id = organizations.id
                        and m.user_id = (select clerk.request_user_id())
                        and m.deleted_at is null));
