-- Keys with which the organisation's purchasing system calls the request API
-- (`POST /api/v1/requests`). The key itself is shown once, when it is created, and never
-- stored: `key_hash` is its SHA-256 (hex), under which a presented key is looked up;
-- `prefix` is its first characters, enough to recognise it in the list, too few to use it.
-- `created_by` says who made it: an admin's email, or "command line".
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_prefix ON api_keys (prefix);
