-- Login: TOTP secrets (sealed), the last accepted step, throttling state,
-- alerts for a user whose password was right but whose code was wrong, and
-- the per-user session generation. Sessions themselves live elsewhere (a
-- separate file on SQLite) so no backup of this database carries them.

CREATE TABLE totp (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    sealed_secret BYTEA NOT NULL,
    -- 0 until the first code confirms the enrolment.
    confirmed     BIGINT NOT NULL,
    -- The last accepted time step: a code is accepted once.
    last_step     BIGINT NOT NULL
);

-- Keyed hashes only: per account (of the username typed, known or not)
-- and per address.
CREATE TABLE login_throttle (
    key           BYTEA PRIMARY KEY,
    failures      BIGINT NOT NULL,
    last_failure  BIGINT NOT NULL
);

CREATE TABLE address_throttle (
    key           BYTEA PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    attempts      BIGINT NOT NULL
);

CREATE TABLE login_alerts (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    count         BIGINT NOT NULL,
    last_at       BIGINT NOT NULL
);

-- Bumped when a user's password, 2FA or roles change, or they are frozen
-- or disabled: every session holding an older generation ends.
CREATE TABLE user_generations (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    generation    BIGINT NOT NULL
);

-- The lockdown epoch: every session holding an older epoch ends, and while
-- locked no one logs in.
ALTER TABLE instance ADD COLUMN lockdown_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE instance ADD COLUMN locked BIGINT NOT NULL DEFAULT 0;
