-- A recovery code set the user's password: their next login says so, once.
-- Only the opaque id, no time: the audit trail has when.

CREATE TABLE recovery_notices (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE
) STRICT;
