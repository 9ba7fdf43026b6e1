CREATE TABLE answer_counts (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    cell TEXT NOT NULL,
    question_key TEXT NOT NULL,
    value TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (wave_id, cell, question_key, value)
);
CREATE INDEX answer_counts_question ON answer_counts (wave_id, question_key);
INSERT INTO answer_counts (wave_id, cell, question_key, value, n)
SELECT wave_id, cell, split_part(item, '|', 1), split_part(item, '|', 2),
       CAST(split_part(item, '|', 3) AS BIGINT)
FROM cell_counts, unnest(string_to_array(counts, ',')) AS item
WHERE item <> '';
DROP TABLE cell_counts;
