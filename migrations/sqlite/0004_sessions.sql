-- Sessions. On SQLite they live in their own file beside this database
-- (sessions.db, made by the session store), so no copy or backup of this
-- file ever carries them; on PostgreSQL this migration makes an UNLOGGED
-- table. Nothing to do here: the number is kept so both folders match.
SELECT 1;
