-- Fewer pages written per submission (issue 17): a submission wrote ~14.5 B-tree pages,
-- each a random one (the keys are random on purpose, see 000006), and every page costs a
-- WAL frame at commit and a write at the checkpoint. Now ~7:
-- * answered marks keyed (wave, mark): the wave's marks are a range of the key, so the
--   separate wave index goes;
-- * responses keyed (wave, id): same, the `responses_wave` index goes. `answers` no longer
--   declares a foreign key to `responses (id)` (a parent key must be unique on its own; a
--   unique index on `id` would be the page this saves). Answers are written and deleted
--   with their response in one transaction (`services::responses`), never alone;
-- * no `answers_text` index: a wave's text answers are read through the wave's responses
--   and the answers' key (response, question), which the comments page and closing do.
-- Rows stay in key order (random within a wave), not in arrival order.

CREATE TABLE answered_marks_keyed (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    mark TEXT NOT NULL,
    PRIMARY KEY (wave_id, mark)
) WITHOUT ROWID;
INSERT INTO answered_marks_keyed (wave_id, mark) SELECT wave_id, mark FROM answered_marks;
DROP TABLE answered_marks;
ALTER TABLE answered_marks_keyed RENAME TO answered_marks;

CREATE TABLE responses_keyed (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    id TEXT NOT NULL,
    -- the respondent's segment cell, coarsened at opening to a group of at least k invitees
    cell TEXT NOT NULL,
    submitted_on DATE NOT NULL,
    PRIMARY KEY (wave_id, id)
) WITHOUT ROWID;
INSERT INTO responses_keyed (wave_id, id, cell, submitted_on)
SELECT wave_id, id, cell, submitted_on FROM responses;

CREATE TABLE answers_keyed (
    response_id TEXT NOT NULL,
    question_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    value_int INTEGER,
    value_text TEXT,
    PRIMARY KEY (response_id, question_key, position)
) WITHOUT ROWID;
INSERT INTO answers_keyed (response_id, question_key, position, value_int, value_text)
SELECT response_id, question_key, position, value_int, value_text FROM answers;

DROP TABLE answers;
DROP TABLE responses;
ALTER TABLE responses_keyed RENAME TO responses;
ALTER TABLE answers_keyed RENAME TO answers;
