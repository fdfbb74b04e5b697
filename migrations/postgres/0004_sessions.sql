-- Sessions, shared by every node. UNLOGGED: never written to the WAL, so
-- replicas and WAL archives never carry them, and they are emptied after a
-- crash (everyone logs in again, the safe direction). Back up with
-- `pg_dump --no-unlogged-table-data` (docs/deployment.md). Rows are sealed
-- under a key derived from the session id, which only the cookie holds.
-- On SQLite the same table lives in its own file, sessions.db.

CREATE UNLOGGED TABLE sessions (
    row_key          BYTEA PRIMARY KEY,
    owner            BYTEA,
    expires_at       BIGINT NOT NULL,
    sealed           BYTEA NOT NULL,
    sealed_user_key  BYTEA
);

CREATE INDEX sessions_by_owner ON sessions (owner);
