DROP TABLE answer_counts;
DROP TABLE answers;
DROP TABLE responses;
