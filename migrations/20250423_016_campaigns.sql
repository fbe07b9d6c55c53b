-- What Smartlead calls each campaign and what state it says it is in. Smartlead sends
-- `campaign_name` and `campaign_status` with its events; until now the hub kept them only inside
-- each payload and showed campaigns by id. One row per user and campaign: the name and the
-- status its newest event carried, each with that event's time (`named_at`, `status_at`), so a
-- late delivery from before a rename or a pause does not undo it (src/storage/campaigns.rs).
-- Filled from each campaign's newest stored event by this migration's step in Rust, then by
-- every delivery.
CREATE TABLE campaigns (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    name TEXT CHECK (length(name) BETWEEN 1 AND 200),
    named_at TEXT,
    status TEXT CHECK (length(status) BETWEEN 1 AND 32),
    status_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id),
    CHECK ((name IS NULL) = (named_at IS NULL) AND (status IS NULL) = (status_at IS NULL)),
    CHECK (name IS NOT NULL OR status IS NOT NULL)
) WITHOUT ROWID;
