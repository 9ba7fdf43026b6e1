ALTER TABLE cell_counts RESET (fillfactor);
CREATE INDEX cell_counts_respondents ON cell_counts (wave_id, cell, respondents);
