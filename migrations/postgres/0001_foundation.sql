-- Safehouse foundation schema (PostgreSQL twin of migrations/sqlite). Every column kept in clear is listed, with
-- its reason, in SECURITY.md ("What is stored in clear"). Everything else
-- is a ciphertext: XChaCha20-Poly1305 ("sealed_*") or age ("wrapped").

-- One row: binds the database to its secrets directory.
CREATE TABLE instance (
    singleton     BIGINT PRIMARY KEY CHECK (singleton = 1),
    instance_id   TEXT NOT NULL,
    pepper_check  BYTEA NOT NULL,
    format        BIGINT NOT NULL
);

-- The directory and audit keys, sealed under a pepper-derived key.
CREATE TABLE system_keys (
    name          TEXT PRIMARY KEY CHECK (name IN ('directory', 'audit')),
    sealed        BYTEA NOT NULL
);

-- Public recipients of the team keys, checked against the trust file.
CREATE TABLE teams (
    name          TEXT PRIMARY KEY CHECK (name IN ('coordinators', 'communications')),
    recipient     TEXT NOT NULL
);

-- The user directory: a keyed hash of the username to find a user at
-- login, everything else (username, roles, state) sealed.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    lookup        BYTEA NOT NULL,
    version       BIGINT NOT NULL,
    sealed_profile BYTEA NOT NULL,
    CONSTRAINT users_lookup_unique UNIQUE (lookup)
);

-- One-time activation tokens, found by a keyed hash, never stored in clear.
CREATE TABLE activations (
    lookup        BYTEA PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at    BIGINT NOT NULL
);

-- A user's age identity, sealed under a key derived from their password
-- (argon2id with the pepper as its secret, then HKDF).
CREATE TABLE user_keys (
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_no        BIGINT NOT NULL,
    recipient     TEXT NOT NULL,
    kdf_salt      BYTEA NOT NULL,
    kdf_params    TEXT NOT NULL,
    sealed_by_password BYTEA NOT NULL,
    PRIMARY KEY (user_id, key_no)
);

-- The same identity sealed under each one-time recovery code.
CREATE TABLE recovery_codes (
    user_id       TEXT NOT NULL,
    key_no        BIGINT NOT NULL,
    slot          BIGINT NOT NULL,
    sealed        BYTEA NOT NULL,
    PRIMARY KEY (user_id, key_no, slot),
    FOREIGN KEY (user_id, key_no) REFERENCES user_keys(user_id, key_no) ON DELETE CASCADE
);

-- A coordinator's statement that key `key_no` belongs to the user, and the
-- hand-over key with which the user vouches for their own next key.
CREATE TABLE certifications (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    key_no        BIGINT NOT NULL,
    recipient     TEXT NOT NULL,
    mac           BYTEA NOT NULL,
    handover_to_user BYTEA NOT NULL,
    handover_to_coordinators BYTEA NOT NULL
);

-- A user's vouch for their own new key, checked by the next coordinator.
CREATE TABLE vouchers (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    key_no        BIGINT NOT NULL,
    mac           BYTEA NOT NULL
);

-- Every key wrap: one row per (secret, holder). Secrets are team
-- identities, case keys, the index key, the register keys and the
-- system keys; holders are user keys, team keys and recovery recipients.
CREATE TABLE wraps (
    object_kind   TEXT NOT NULL CHECK (object_kind IN ('team', 'case', 'shared', 'system')),
    object_id     TEXT NOT NULL,
    holder_kind   TEXT NOT NULL CHECK (holder_kind IN ('user', 'team', 'recovery')),
    holder_id     TEXT NOT NULL,
    key_no        BIGINT NOT NULL,
    wrapped       BYTEA NOT NULL,
    PRIMARY KEY (object_kind, object_id, holder_kind, holder_id)
);
CREATE INDEX wraps_by_holder ON wraps (holder_kind, holder_id);

-- Cases: three sealed fields under the case key.
CREATE TABLE cases (
    id            TEXT PRIMARY KEY,
    version       BIGINT NOT NULL,
    sealed_group  BYTEA NOT NULL,
    sealed_placement BYTEA NOT NULL,
    sealed_notes  BYTEA NOT NULL
);

CREATE TABLE milestones (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    sealed        BYTEA NOT NULL
);
CREATE INDEX milestones_by_case ON milestones (case_id);

-- The per-case index record that dashboards read, under the index key.
CREATE TABLE case_index (
    case_id       TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    sealed        BYTEA NOT NULL
);

-- Index changes by users who hold no index key: age-sealed to the
-- coordinators recipient, authenticated by a MAC under the case key.
CREATE TABLE index_inbox (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    sealed        BYTEA NOT NULL
);

-- Assignments waiting for the assignee's key to be certified.
CREATE TABLE pending_grants (
    case_id       TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (case_id, user_id)
);

-- The shelter register: code names under one register key, details under
-- the other.
CREATE TABLE shelters (
    id            TEXT PRIMARY KEY,
    version       BIGINT NOT NULL,
    sealed_code   BYTEA NOT NULL,
    sealed_details BYTEA NOT NULL
);

-- Offline recovery requests exported and not yet answered.
CREATE TABLE recovery_requests (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_no        BIGINT NOT NULL
);
