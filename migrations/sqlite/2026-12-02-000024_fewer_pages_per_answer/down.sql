CREATE TABLE answered_marks_old (
    mark TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id)
) WITHOUT ROWID;
INSERT INTO answered_marks_old (mark, wave_id) SELECT mark, wave_id FROM answered_marks;
DROP TABLE answered_marks;
ALTER TABLE answered_marks_old RENAME TO answered_marks;
CREATE INDEX answered_marks_wave ON answered_marks (wave_id);

CREATE TABLE responses_old (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id),
    cell TEXT NOT NULL,
    submitted_on DATE NOT NULL
) WITHOUT ROWID;
INSERT INTO responses_old (id, wave_id, cell, submitted_on)
SELECT id, wave_id, cell, submitted_on FROM responses;
CREATE TABLE answers_old (
    response_id TEXT NOT NULL REFERENCES responses_old (id),
    question_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    value_int INTEGER,
    value_text TEXT,
    PRIMARY KEY (response_id, question_key, position)
) WITHOUT ROWID;
INSERT INTO answers_old (response_id, question_key, position, value_int, value_text)
SELECT response_id, question_key, position, value_int, value_text FROM answers;
DROP TABLE answers;
DROP TABLE responses;
ALTER TABLE responses_old RENAME TO responses;
ALTER TABLE answers_old RENAME TO answers;
CREATE INDEX responses_wave ON responses (wave_id);
CREATE INDEX answers_text ON answers (question_key, response_id) WHERE value_text IS NOT NULL;
