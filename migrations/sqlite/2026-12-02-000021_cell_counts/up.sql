-- A wave's counts as one row per segment cell instead of one per (cell, question, value):
-- `counts` packs the cell's `question|value|n` items, joined by ',' and sorted; the
-- results read a wave's cells (thousands of rows) instead of every count (hundreds of
-- thousands, each repeating the cell's JSON), and a submission updates one row.
-- `respondents` repeats the `_responses` count for the reads that need only it. Stored in
-- the order of its key, like the answers (not in the order cells first got an answer).
CREATE TABLE cell_counts (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    cell TEXT NOT NULL,
    respondents BIGINT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (wave_id, cell)
) WITHOUT ROWID;
INSERT INTO cell_counts (wave_id, cell, respondents, counts)
SELECT wave_id, cell,
       COALESCE(SUM(CASE WHEN question_key = '_responses' THEN n END), 0),
       group_concat(question_key || '|' || value || '|' || CAST(n AS TEXT), ',')
FROM (SELECT * FROM answer_counts ORDER BY wave_id, cell, question_key, value)
GROUP BY wave_id, cell;
DROP TABLE answer_counts;
-- The respondents per cell (an open wave's participation, the results cache key) read
-- from the index alone, without the packed counts.
CREATE INDEX cell_counts_respondents ON cell_counts (wave_id, cell, respondents);
