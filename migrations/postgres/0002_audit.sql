-- The audit trail: append-only, each entry MAC-chained to the one before
-- under the audit key (HMAC-SHA-256), so neither an edit, a deletion, a
-- cut nor a rebuilt chain goes unnoticed. Only opaque ids, times, actions
-- and outcomes: never a value of a case field, never a username.
CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    role          TEXT NOT NULL,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    prev_mac      BYTEA NOT NULL,
    mac           BYTEA NOT NULL
);
CREATE INDEX audit_log_by_actor ON audit_log (actor, action, at);

-- The database itself refuses to change or remove an entry. (Privileges
-- are the second fence: see docs/deployment.md once PostgreSQL lands.)
CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
-- TRUNCATE fires no row trigger: refuse it separately.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();

-- Bulk-reading flags raised for auditors and coordinators.
CREATE TABLE audit_flags (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor         TEXT NOT NULL,
    raised_at     TEXT NOT NULL,
    distinct_cases BIGINT NOT NULL,
    window_minutes BIGINT NOT NULL
);
