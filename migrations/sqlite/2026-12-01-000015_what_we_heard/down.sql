PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

-- Mail of the two kinds goes with them.
DELETE FROM outbox WHERE kind IN ('what_we_heard', 'owner_digest');
CREATE TABLE outbox_old (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'reminder', 'results_ready')),
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
INSERT INTO outbox_old (id, kind, dedupe_key, recipient, wave_id, invitation_id, state, attempts,
                    next_attempt_at, lease_until, last_error, created_at, sent_at, retryable)
    SELECT id, kind, dedupe_key, recipient, wave_id, invitation_id, state, attempts,
           next_attempt_at, lease_until, last_error, created_at, sent_at, retryable
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_wave ON outbox (wave_id, kind, state);

DROP TABLE wave_summaries;

COMMIT;
PRAGMA foreign_keys = ON;
