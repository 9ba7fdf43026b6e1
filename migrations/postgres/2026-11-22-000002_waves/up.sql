-- Waves, schedules, invitations and the outbox; opt-outs and suppressed addresses.

-- A schedule rolls waves forward, e.g. every 6 months from 15 January, open 21 days.
CREATE TABLE schedules (
    id TEXT PRIMARY KEY NOT NULL,
    survey_slug TEXT NOT NULL,
    title_template TEXT NOT NULL,
    every_months INTEGER NOT NULL CHECK (every_months > 0),
    open_for_hours INTEGER NOT NULL CHECK (open_for_hours > 0),
    -- reminder offsets after opening, in hours, as a JSON array (e.g. [168, 336])
    reminder_hours TEXT NOT NULL,
    audience TEXT,
    anonymity_k INTEGER NOT NULL CHECK (anonymity_k >= 3),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    -- when the next wave this schedule has not created yet opens
    next_opens_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE waves (
    id TEXT PRIMARY KEY NOT NULL,
    survey_version_id TEXT NOT NULL REFERENCES survey_versions (id),
    schedule_id TEXT REFERENCES schedules (id),
    title TEXT NOT NULL,
    audience TEXT,
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    reminder_hours TEXT NOT NULL,
    anonymity_k INTEGER NOT NULL CHECK (anonymity_k >= 3),
    state TEXT NOT NULL CHECK (state IN ('scheduled', 'open', 'closed', 'cancelled')),
    invited_count INTEGER NOT NULL DEFAULT 0,
    skipped_count INTEGER NOT NULL DEFAULT 0,
    -- how many reminder rounds have been enqueued
    reminders_enqueued INTEGER NOT NULL DEFAULT 0,
    opened_at TIMESTAMP,
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    CHECK (closes_at > opens_at),
    UNIQUE (schedule_id, opens_at)
);
CREATE INDEX waves_state_opens ON waves (state, opens_at);

-- One per audience member of an opened wave. The segment is a frozen copy of the
-- stakeholder's attributes at opening. Tokens are never stored: only their SHA-256.
-- No response references an invitation; `responded` is a flag without a time.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id),
    stakeholder_id TEXT NOT NULL REFERENCES stakeholders (id),
    token_hash TEXT NOT NULL UNIQUE,
    unsubscribe_hash TEXT NOT NULL UNIQUE,
    segment TEXT NOT NULL,
    language TEXT,
    responded BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (wave_id, stakeholder_id)
);

-- Every email goes through here: pending -> sending (leased) -> sent | dead | cancelled.
-- A transient failure puts the row back to pending with a later next_attempt_at.
CREATE TABLE outbox (
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
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_wave ON outbox (wave_id, kind, state);

-- A stakeholder who asked for no more mail about a survey.
CREATE TABLE opt_outs (
    stakeholder_id TEXT NOT NULL REFERENCES stakeholders (id),
    survey_slug TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (stakeholder_id, survey_slug)
);

-- Addresses that hard-bounced (SMTP 5xx): no mail to them in future waves.
CREATE TABLE suppressions (
    email TEXT PRIMARY KEY NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
