PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

-- "What we heard": the short summary of a closed wave sent to everyone invited, once per
-- wave (the primary key is what makes a second press, or a second instance, send nothing).
-- The public page's link token is derived from `id` with the server key and never stored:
-- `link_hash` is its SHA-256. `revoked_at` set: the link no longer opens the page.
CREATE TABLE wave_summaries (
    wave_id TEXT PRIMARY KEY NOT NULL REFERENCES waves (id),
    id TEXT NOT NULL UNIQUE,
    link_hash TEXT NOT NULL UNIQUE,
    sent_by TEXT NOT NULL REFERENCES users (id),
    sent_at TIMESTAMP NOT NULL,
    recipients INTEGER NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES users (id)
);

-- The outbox takes two more kinds of mail: "what we heard" (to the people invited to a
-- closed wave) and the action owners' weekly digest. SQLite changes a CHECK by rebuilding
-- the table (foreign keys are off meanwhile; nothing references the outbox).
CREATE TABLE outbox_new (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'reminder', 'results_ready', 'what_we_heard', 'owner_digest')),
    -- never enqueue the same mail twice (e.g. 'invitation:<id>', 'reminder:<id>:1')
    dedupe_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    wave_id TEXT REFERENCES waves (id),
    invitation_id TEXT REFERENCES invitations (id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'dead', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    retryable BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO outbox_new (id, kind, dedupe_key, recipient, wave_id, invitation_id, state, attempts,
                    next_attempt_at, lease_until, last_error, created_at, sent_at, retryable)
    SELECT id, kind, dedupe_key, recipient, wave_id, invitation_id, state, attempts,
           next_attempt_at, lease_until, last_error, created_at, sent_at, retryable
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_wave ON outbox (wave_id, kind, state);

COMMIT;
PRAGMA foreign_keys = ON;
