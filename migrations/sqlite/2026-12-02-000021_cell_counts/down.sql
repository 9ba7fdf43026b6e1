CREATE TABLE answer_counts (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    cell TEXT NOT NULL,
    question_key TEXT NOT NULL,
    value TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (wave_id, cell, question_key, value)
) WITHOUT ROWID;
CREATE INDEX answer_counts_question ON answer_counts (wave_id, question_key);
-- Each packed item `question|value|n` back to a row.
WITH RECURSIVE items(wave_id, cell, item, rest) AS (
    SELECT wave_id, cell, '', counts || ',' FROM cell_counts
    UNION ALL
    SELECT wave_id, cell, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
    FROM items WHERE rest <> ''
),
parts(wave_id, cell, question_key, tail) AS (
    SELECT wave_id, cell, substr(item, 1, instr(item, '|') - 1), substr(item, instr(item, '|') + 1)
    FROM items WHERE item <> ''
)
INSERT INTO answer_counts (wave_id, cell, question_key, value, n)
SELECT wave_id, cell, question_key,
       substr(tail, 1, instr(tail, '|') - 1),
       CAST(substr(tail, instr(tail, '|') + 1) AS INTEGER)
FROM parts;
DROP TABLE cell_counts;
