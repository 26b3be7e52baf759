-- clerk-mirror: storage tuning of the mirrored tables (issue 4, benchmark work).
-- Never edit this file once it has landed.

-- Ids compare bytewise whatever the database's default collation: cheaper btree
-- work on databases created with a linguistic collation, and the same order in
-- which the worker sends each batch's rows (sorted by id, bytewise), which is
-- also the order the rows are locked in.
alter table clerk.users alter column id type text collate "C";
alter table clerk.organizations alter column id type text collate "C";
alter table clerk.organization_memberships
  alter column id type text collate "C",
  alter column organization_id type text collate "C",
  alter column user_id type text collate "C";

-- Leave room on each page for the next version of its rows, so an update that
-- changes no indexed column stays on the page (HOT) and touches no index. Rows
-- carry their payload (1-2 kB), hence the generous reserve.
alter table clerk.users set (fillfactor = 70);
alter table clerk.organizations set (fillfactor = 70);
alter table clerk.organization_memberships set (fillfactor = 70);
