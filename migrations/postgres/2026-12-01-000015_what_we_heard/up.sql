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
-- closed wave) and the action owners' weekly digest.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('invitation', 'reminder', 'results_ready', 'what_we_heard', 'owner_digest'));
