-- Programmes (docs/programmes.md): aid at the shelters and the annual
-- report. Nothing here names a shelter, a case or a kind of aid in clear.

-- Aid entries, sealed under the register details key (coordinators only).
-- `supersedes` is the entry a correction replaces, in clear (an opaque id)
-- so that the database itself refuses a second correction of one entry:
-- two coordinators correcting it at once cannot both count. The sealed
-- entry repeats it, and a mismatch is refused as tampering.
CREATE TABLE aid_entries (
    id            TEXT PRIMARY KEY,
    supersedes    TEXT UNIQUE,
    sealed        BYTEA NOT NULL
);

-- A caseworker's aid entry on its way to the coordinators: age-encrypted
-- to the coordinators recipient, the case that entitles it inside, with a
-- MAC under a key derived from that case's key. Folded into aid_entries by
-- the next coordinator request.
CREATE TABLE aid_inbox (
    id            TEXT PRIMARY KEY,
    sealed        BYTEA NOT NULL
);

-- Kinds of aid a coordinator added (a name and a unit), sealed like the entries.
CREATE TABLE aid_kinds (
    id            TEXT PRIMARY KEY,
    sealed        BYTEA NOT NULL
);

-- Approved annual reports, sealed to the communications team.
CREATE TABLE annual_reports (
    id            TEXT PRIMARY KEY,
    sealed        BYTEA NOT NULL
);
