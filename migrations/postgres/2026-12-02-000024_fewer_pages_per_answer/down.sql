CREATE INDEX answers_text ON answers (question_key, response_id) WHERE value_text IS NOT NULL;
CREATE INDEX responses_wave ON responses (wave_id);
ALTER TABLE responses DROP CONSTRAINT responses_pkey;
ALTER TABLE responses ADD PRIMARY KEY (id);
ALTER TABLE answers ADD CONSTRAINT answers_response_id_fkey FOREIGN KEY (response_id) REFERENCES responses (id);
CREATE INDEX answered_marks_wave ON answered_marks (wave_id);
ALTER TABLE answered_marks DROP CONSTRAINT answered_marks_pkey;
ALTER TABLE answered_marks ADD PRIMARY KEY (mark);
