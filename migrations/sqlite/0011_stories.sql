-- Public stories and figures (docs/stories.md). Nothing here names a case
-- in clear: a draft's case is inside its envelope, sealed to the
-- coordinators; an approved story or figure table is sealed to the
-- communications team and carries a random id; the link from a case to
-- its stories is sealed under the case key and found by a tag that only a
-- holder of that case key can compute.

-- A caseworker's draft, waiting for a coordinator's review.
CREATE TABLE story_drafts (
    id            TEXT PRIMARY KEY,
    tag           TEXT NOT NULL,
    sealed        BLOB NOT NULL
) STRICT;
CREATE INDEX story_drafts_by_tag ON story_drafts (tag);

-- Approved stories. `withdrawn` is in clear so that whoever moves the case
-- back into danger withdraws its stories in the same write, without the
-- communications key.
CREATE TABLE stories (
    id            TEXT PRIMARY KEY,
    withdrawn     INTEGER NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1)),
    sealed        BLOB NOT NULL
) STRICT;

-- Which stories are about a case: the story id sealed under the case key.
CREATE TABLE story_links (
    id            TEXT PRIMARY KEY,
    tag           TEXT NOT NULL,
    sealed        BLOB NOT NULL
) STRICT;
CREATE INDEX story_links_by_tag ON story_links (tag);

-- Approved figure tables, sealed to the communications team.
CREATE TABLE figure_tables (
    id            TEXT PRIMARY KEY,
    sealed        BLOB NOT NULL
) STRICT;
