-- PostgreSQL only (see its migration of the same name): SQLite updates a row in place, so
-- the `cell_counts_respondents` index costs no dead versions there and stays.
SELECT 1;
