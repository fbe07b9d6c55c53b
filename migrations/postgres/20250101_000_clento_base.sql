-- Clento's tables as they stood before the Smartlead integration, in PostgreSQL's own dialect
-- (the SQLite history is one folder up; the versions match one for one).
--
-- Citus-ready from the first version: tenant tables are keyed by (user_id, …), so that
-- `create_distributed_table(…, 'user_id')` can shard them by tenant and every primary, unique
-- and foreign key carries the distribution column; `users` (and later `api_tokens`) are keyed
-- globally and are meant to be reference tables (README, "PostgreSQL").
-- Types: ids are uuid, times timestamptz (the application reads and writes them at
-- millisecond precision, UTC), JSON is jsonb.

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE leads (
    id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email text NOT NULL,
    first_name text,
    last_name text,
    company text,
    status text NOT NULL DEFAULT 'new',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id),
    UNIQUE (user_id, email)
);

CREATE TABLE integration_credentials (
    id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider text NOT NULL
        CONSTRAINT integration_credentials_provider_check
        CHECK (provider IN ('gmail', 'outlook', 'linkedin', 'phantombuster', 'zoominfo', 'apollo')),
    credentials jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id),
    UNIQUE (user_id, provider)
);
