-- The decrypted index a node keeps in memory (SECURITY.md, "What a running
-- server holds in memory") must see every other node's writes. Each index
-- write takes the next number of one counter, in its own transaction, and
-- stamps the row with it; a node compares the counter with the number its
-- copy was made at and reads only the rows stamped after it (through the
-- index below). The counter's row lock makes the numbers follow commit
-- order, so no row is ever stamped below a number a node has already seen.
CREATE TABLE index_revision (
    singleton     INTEGER PRIMARY KEY CHECK (singleton = 1),
    revision      INTEGER NOT NULL
) STRICT;
INSERT INTO index_revision (singleton, revision) VALUES (1, 0);

ALTER TABLE case_index ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE INDEX case_index_by_revision ON case_index (revision);

-- The auditor's home shows the latest verification of the chain: found
-- through this partial index, its cost does not grow with the trail, and
-- only verification entries pay for it on append.
CREATE INDEX audit_log_verifications ON audit_log (seq) WHERE action = 'audit.verify';
