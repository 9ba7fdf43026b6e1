ALTER TABLE responses ADD CONSTRAINT responses_wave_id_fkey
    FOREIGN KEY (wave_id) REFERENCES waves (id);
ALTER TABLE answered_marks ADD CONSTRAINT answered_marks_wave_id_fkey
    FOREIGN KEY (wave_id) REFERENCES waves (id);
