-- Anonymity at rest (issue 10): a copy of the database ties no answer to a person.

-- Who answered is a keyed mark, HMAC(server key, invitation id), not a flag on the
-- invitation: without the key no mark can be matched to an invitation, and a row of
-- random-looking text is all there is. Deleted when the wave closes or is cancelled.
CREATE TABLE answered_marks (
    mark TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id)
);
CREATE INDEX answered_marks_wave ON answered_marks (wave_id);

-- Invitations answered before this migration: the server turns them into marks at its
-- next start (it holds the key) and empties this table.
CREATE TABLE legacy_answered (
    invitation_id TEXT PRIMARY KEY NOT NULL
);
INSERT INTO legacy_answered (invitation_id) SELECT id FROM invitations WHERE responded;
ALTER TABLE invitations DROP COLUMN responded;

-- The cell an invitation's response is stored under: its segment, coarsened when the wave
-- opens until at least k invitees share it, so every stored response has k or more
-- possible authors for someone who reads the invitations. (Open waves from before this
-- migration are coarsened by the server at its next start.)
ALTER TABLE invitations ADD COLUMN response_cell TEXT NOT NULL DEFAULT '';
UPDATE invitations SET response_cell = segment;

-- (SQLite only: responses, answers and counts are rebuilt in key order there. PostgreSQL
-- keeps rows in its heap in arrival order; see the README's threat model.)

-- What a closed wave keeps of its comments: the text, the question and the same
-- response's NPS answer (for the promoter / detractor filter), under a new random id and
-- without any cell. Answers, responses and counts of the wave are deleted at closing.
CREATE TABLE wave_comments (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id),
    question_key TEXT NOT NULL,
    text TEXT NOT NULL,
    nps_answer INTEGER
);
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
