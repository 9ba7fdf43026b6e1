-- Fewer index entries written per submission (issue 17; see the SQLite migration): answered
-- marks and responses keyed by (wave, …) instead of a key plus a wave index, no foreign
-- key from answers to `responses (id)`, no `answers_text` index (text answers are read
-- through the wave's responses and the answers' key).
ALTER TABLE answered_marks DROP CONSTRAINT answered_marks_pkey;
ALTER TABLE answered_marks ADD PRIMARY KEY (wave_id, mark);
DROP INDEX answered_marks_wave;
ALTER TABLE answers DROP CONSTRAINT answers_response_id_fkey;
ALTER TABLE responses DROP CONSTRAINT responses_pkey;
ALTER TABLE responses ADD PRIMARY KEY (wave_id, id);
DROP INDEX responses_wave;
DROP INDEX answers_text;
