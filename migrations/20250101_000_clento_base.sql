-- Clento's tables as they stood before the Smartlead integration. The hub creates them itself
-- so that a fresh install has the base the Smartlead migration assumes.
--
-- Portability: plain SQL that PostgreSQL also accepts, except where marked "SQLite-ism".
-- Types: UUIDs are lowercase hyphenated TEXT, timestamps are UTC TEXT `YYYY-MM-DDTHH:MM:SS.sssZ`
-- (fixed width, so text order is time order), JSON is TEXT.
--
-- SQLite-ism: `strftime(...)` defaults; PostgreSQL would use `DEFAULT now()`. The application
-- always supplies these values itself, the defaults only serve hand-written SQL.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE leads (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    company TEXT,
    status TEXT NOT NULL DEFAULT 'new',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (user_id, email)
);

CREATE TABLE integration_credentials (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL
        CONSTRAINT integration_credentials_provider_check
        CHECK (provider IN ('gmail', 'outlook', 'linkedin', 'phantombuster', 'zoominfo', 'apollo')),
    -- SQLite-ism: json_valid(); PostgreSQL would declare the column JSONB instead.
    credentials TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(credentials)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (user_id, provider)
);
