-- Results of a closed wave, frozen when it closed: the serialised WaveResults (JSON). Open
-- waves are computed live from answer_counts; closed waves read this row.
CREATE TABLE result_snapshots (
    wave_id TEXT PRIMARY KEY NOT NULL REFERENCES waves (id),
    results TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- The respondents of a wave ('_responses' rows, one per cell) without scanning every count
-- of the wave: the cache key of an open wave's results.
CREATE INDEX answer_counts_question ON answer_counts (wave_id, question_key);

-- Invited per segment cell (response rate per segment) as an index-only grouped count.
CREATE INDEX invitations_wave_segment ON invitations (wave_id, segment);

-- The comments of a wave (text answers, with the same response's NPS answer) without
-- reading every answer: only answers with a text value are indexed.
CREATE INDEX answers_text ON answers (question_key, response_id) WHERE value_text IS NOT NULL;
