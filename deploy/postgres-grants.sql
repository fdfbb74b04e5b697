-- Privileges for the role Safehouse nodes connect as, on PostgreSQL.
--
-- Run by the database owner after `safehouse init` and after every upgrade
-- that brings a migration (the owner applies migrations; nodes cannot):
--
--   psql "$OWNER_URL" -v app_role=safehouse_app -f deploy/postgres-grants.sql
--
-- The nodes may read and write rows, nothing more: they cannot alter or
-- drop a table or a trigger (they own none), and on the audit log they may
-- only read and append. An UPDATE, DELETE or TRUNCATE of audit_log is
-- refused twice over: by this missing privilege, and by the trigger that
-- the nodes, not being its owner, cannot drop. See docs/deployment.md.

\set ON_ERROR_STOP on

GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO :"app_role";

-- The audit log: read and append only.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM :"app_role";
-- Migrations are the owner's: the nodes only check they are current.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM :"app_role";
