-- Anonymous responses. A response row holds a random id, the wave, the frozen segment cell
-- and the submission date (not time) -- and no reference to an invitation or stakeholder.

CREATE TABLE responses (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id),
    -- the respondent's segment attribute values at invitation, as canonical JSON
    cell TEXT NOT NULL,
    submitted_on DATE NOT NULL
);
CREATE INDEX responses_wave ON responses (wave_id);

-- One row per answered question; a pain-point question has one row per ticked option.
CREATE TABLE answers (
    response_id TEXT NOT NULL REFERENCES responses (id),
    question_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    value_int INTEGER,
    value_text TEXT,
    PRIMARY KEY (response_id, question_key, position)
);

-- Sufficient statistics, maintained in the same transaction as each response: how many
-- respondents of a cell gave each value to each question ('_responses' counts respondents,
-- '_answered' those who answered a question at all).
CREATE TABLE answer_counts (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    cell TEXT NOT NULL,
    question_key TEXT NOT NULL,
    value TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (wave_id, cell, question_key, value)
);
