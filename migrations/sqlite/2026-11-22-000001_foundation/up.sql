-- Foundation: the stakeholder directory, accounts, sessions and pinned survey versions.
-- Ids are UUIDs as TEXT, times are UTC timestamps, JSON is TEXT: the same on both backends.

CREATE TABLE stakeholders (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    language TEXT,
    -- segment attributes (business_unit, department, region, ...) as a JSON object of strings
    attributes TEXT NOT NULL DEFAULT '{}',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'lead')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

-- Server-side sessions. Only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- A survey definition as loaded: (slug, version) is pinned to one content hash forever.
CREATE TABLE survey_versions (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    definition TEXT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    UNIQUE (slug, version)
);
