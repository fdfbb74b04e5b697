-- The audit trail: append-only, each entry MAC-chained to the one before
-- under the audit key (HMAC-SHA-256), so neither an edit, a deletion, a
-- cut nor a rebuilt chain goes unnoticed. Only opaque ids, times, actions
-- and outcomes: never a value of a case field, never a username.
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    role          TEXT NOT NULL,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    prev_mac      BLOB NOT NULL,
    mac           BLOB NOT NULL
) STRICT;
CREATE INDEX audit_log_by_actor ON audit_log (actor, action, at);

-- The database itself refuses to change or remove an entry.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Bulk-reading flags raised for auditors and coordinators.
CREATE TABLE audit_flags (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    actor         TEXT NOT NULL,
    raised_at     TEXT NOT NULL,
    distinct_cases INTEGER NOT NULL,
    window_minutes INTEGER NOT NULL
) STRICT;
