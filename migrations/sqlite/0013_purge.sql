-- Purge of closed cases (docs/operations.md, "Purging closed cases").
--
-- A coordinator's request to purge a closed case before its retention
-- period ends, waiting for a second coordinator: the case's opaque id, the
-- requester's opaque id and the case version the request was made at. A
-- request whose version is no longer the case's has lapsed (the case
-- changed or reopened); the purge itself deletes the row with the case.
CREATE TABLE purge_requests (
    case_id       TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    requester     TEXT NOT NULL,
    case_version  INTEGER NOT NULL
);

-- The index counter's number at the latest purge: a node whose in-memory
-- index was made before it drops its copy, since a purge deletes an index
-- row and the rows stamped after a copy's number never show a deletion.
ALTER TABLE index_revision ADD COLUMN purged INTEGER NOT NULL DEFAULT 0;
