-- A case page's history and a caseworker's "changed since you looked" read
-- the trail by target; without this index each would scan the whole trail.
CREATE INDEX audit_log_by_target ON audit_log (target, seq);
