-- Pulses after fulfilled requests (issue 15): a short survey sent to a request's requester
-- once the request is fulfilled, through waves of one calendar quarter each.

-- One row per request that became fulfilled with a requester: the pulse it owes, decided
-- once (invited or skipped, with the reason) by the scheduler after the delay. The primary
-- key makes it once per request, whoever imports it how often.
CREATE TABLE request_pulses (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES procurement_requests (id),
    requester_email TEXT NOT NULL,
    business_unit TEXT NOT NULL,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    -- fulfilled within the request log's target days for its category
    within_target BOOLEAN NOT NULL,
    fulfilled_on DATE NOT NULL,
    -- when Pulse learnt it was fulfilled: the delay counts from here
    seen_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'invited', 'skipped')),
    skip_reason TEXT,
    decided_at TIMESTAMP,
    -- the pulse wave its invitation went to (NULL when skipped)
    wave_id TEXT REFERENCES waves (id)
);
CREATE INDEX request_pulses_due ON request_pulses (state, seen_at);

-- A pulse wave: the quarter it collects. A wave with a row here is a pulse period: it is
-- created open, gets invitations one by one, and is closed by the scheduler (which holds the
-- key its answers' cells are sealed with) some days after the quarter ends.
CREATE TABLE pulse_periods (
    wave_id TEXT PRIMARY KEY NOT NULL REFERENCES waves (id),
    survey_slug TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    UNIQUE (survey_slug, starts_on)
);

-- The pulse settings an admin edits (one row; absent: the defaults).
CREATE TABLE pulse_settings (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    enabled BOOLEAN NOT NULL,
    survey_slug TEXT NOT NULL,
    delay_hours INTEGER NOT NULL,
    min_days_between INTEGER NOT NULL,
    quiet_days_before_wave INTEGER NOT NULL,
    max_age_days INTEGER NOT NULL,
    answer_days INTEGER NOT NULL,
    anonymity_k INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
