-- The SQLite migration of this number adds an index of each stakeholder's id, state and
-- email, so a filtered page's matches are sorted without reading their rows. PostgreSQL
-- reads the matches' rows for that page in any case (an index-only scan needs a vacuumed
-- table, which a directory fresh from an import is not), so it gets no index; this
-- migration keeps the two backends' versions in step.
SELECT 1;
