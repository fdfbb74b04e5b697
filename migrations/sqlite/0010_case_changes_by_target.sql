-- A case page's history lists only the changes to the case. Reads of the
-- same case far outnumber them; this partial index holds the changes alone,
-- so the history costs one short index read however often the case is read.
CREATE INDEX audit_log_changes_by_target ON audit_log (target, seq)
    WHERE outcome = 'ok'
    AND action IN ('case.create', 'case.update', 'milestone.add', 'milestone.edit', 'case.assign', 'case.unassign');
