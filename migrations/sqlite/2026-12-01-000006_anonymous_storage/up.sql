-- Anonymity at rest (issue 10): a copy of the database ties no answer to a person.

-- Who answered is a keyed mark, HMAC(server key, invitation id), not a flag on the
-- invitation: without the key no mark can be matched to an invitation, and a row of
-- random-looking text is all there is. Deleted when the wave closes or is cancelled.
CREATE TABLE answered_marks (
    mark TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id)
) WITHOUT ROWID;
CREATE INDEX answered_marks_wave ON answered_marks (wave_id);

-- Invitations answered before this migration: the server turns them into marks at its
-- next start (it holds the key) and empties this table.
CREATE TABLE legacy_answered (
    invitation_id TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;
INSERT INTO legacy_answered (invitation_id) SELECT id FROM invitations WHERE responded;
ALTER TABLE invitations DROP COLUMN responded;

-- The cell an invitation's response is stored under: its segment, coarsened when the wave
-- opens until at least k invitees share it, so every stored response has k or more
-- possible authors for someone who reads the invitations. (Open waves from before this
-- migration are coarsened by the server at its next start.)
ALTER TABLE invitations ADD COLUMN response_cell TEXT NOT NULL DEFAULT '';
UPDATE invitations SET response_cell = segment;

-- Responses, answers and counts kept in key order (random ids), not in the order they
-- arrived: SQLite's implicit rowid would number them by submission.
CREATE TABLE responses_keyed (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id),
    -- the respondent's segment cell, coarsened at opening to a group of at least k invitees
    cell TEXT NOT NULL,
    submitted_on DATE NOT NULL
) WITHOUT ROWID;
INSERT INTO responses_keyed (id, wave_id, cell, submitted_on)
SELECT id, wave_id, cell, submitted_on FROM responses;

CREATE TABLE answers_keyed (
    response_id TEXT NOT NULL REFERENCES responses_keyed (id),
    question_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    value_int INTEGER,
    value_text TEXT,
    PRIMARY KEY (response_id, question_key, position)
) WITHOUT ROWID;
INSERT INTO answers_keyed (response_id, question_key, position, value_int, value_text)
SELECT response_id, question_key, position, value_int, value_text FROM answers;

CREATE TABLE answer_counts_keyed (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    cell TEXT NOT NULL,
    question_key TEXT NOT NULL,
    value TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (wave_id, cell, question_key, value)
) WITHOUT ROWID;
INSERT INTO answer_counts_keyed (wave_id, cell, question_key, value, n)
SELECT wave_id, cell, question_key, value, n FROM answer_counts;

DROP TABLE answers;
DROP TABLE responses;
DROP TABLE answer_counts;
ALTER TABLE responses_keyed RENAME TO responses;
ALTER TABLE answers_keyed RENAME TO answers;
ALTER TABLE answer_counts_keyed RENAME TO answer_counts;
CREATE INDEX responses_wave ON responses (wave_id);
CREATE INDEX answer_counts_question ON answer_counts (wave_id, question_key);
CREATE INDEX answers_text ON answers (question_key, response_id) WHERE value_text IS NOT NULL;

-- What a closed wave keeps of its comments: the text, the question and the same
-- response's NPS answer (for the promoter / detractor filter), under a new random id and
-- without any cell. Answers, responses and counts of the wave are deleted at closing.
CREATE TABLE wave_comments (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id),
    question_key TEXT NOT NULL,
    text TEXT NOT NULL,
    nps_answer INTEGER
) WITHOUT ROWID;
CREATE INDEX wave_comments_wave ON wave_comments (wave_id, question_key);

-- The results of every filter the release plan allows, frozen at closing (the counts
-- they were computed from are deleted).
CREATE TABLE result_filter_snapshots (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    filter TEXT NOT NULL,
    results TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (wave_id, filter)
);
