-- The bulk-reading check after every case read: each reader's latest
-- successful read of each case, written in the same audited write as the
-- read's entry. The check counts at most the policy's threshold plus one
-- rows of one reader through the index, however long the trail grows and
-- however often the reader opens the same case.
CREATE TABLE case_reads (
    actor         TEXT NOT NULL,
    case_id       TEXT NOT NULL,
    last_read     TEXT NOT NULL,
    PRIMARY KEY (actor, case_id)
) STRICT;
CREATE INDEX case_reads_by_actor ON case_reads (actor, last_read);

-- Reads made before this table existed still count in their window.
INSERT INTO case_reads (actor, case_id, last_read)
    SELECT actor, target, MAX(at) FROM audit_log
    WHERE action = 'case.read' AND outcome = 'ok'
    GROUP BY actor, target;

-- "Already flagged in this window?" is one index probe, not a scan of
-- every flag.
CREATE INDEX audit_flags_by_actor ON audit_flags (actor, id);
