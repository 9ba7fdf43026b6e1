-- A wave's cell counts are rewritten by every batch of answers (issue 17). On PostgreSQL an
-- update that changes an indexed column adds an entry to every index and leaves the old row
-- version behind until VACUUM, and the answer writer's read of the batch's cells walked
-- those versions: 1.1 ms a batch in `submit_bench`, most of the database's time. Without
-- the index on `respondents` the updates are HOT (heap-only: no new index entry, old
-- versions pruned on the page), given room on the page, which the fill factor keeps.
-- The respondents of a wave are read along the primary key instead (a wave has at most a
-- few thousand cells). SQLite updates in place and keeps the index.
DROP INDEX cell_counts_respondents;
ALTER TABLE cell_counts SET (fillfactor = 50);
