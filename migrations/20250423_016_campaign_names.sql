-- Campaign names. Smartlead sends `campaign_name` with its events; until now the hub kept it
-- only inside each payload and showed campaigns by id. One row per user and campaign: the name
-- its newest event carried, and that event's time (`named_at`), so that a late delivery from
-- before a rename does not undo it (src/storage/campaign_names.rs). Filled from each
-- campaign's newest stored event by this migration's step in Rust, then by every delivery.
CREATE TABLE campaign_names (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    named_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, campaign_id)
) WITHOUT ROWID;
