-- The directory's text search with an index (issue 17): a substring of the folded email or
-- name (`email_key` / `name_key`, see `db::models::stakeholders::search_key`) is still found
-- with LIKE '%…%', now through trigram GIN indexes (pg_trgm, a trusted extension the
-- database owner may create), which PostgreSQL rechecks against the LIKE itself, so the
-- results are those of the scan. Searches of fewer than 3 characters have no trigram; the
-- planner scans as before.
--
-- stakeholders_inactive: the few inactive stakeholders, so "active" is counted as everyone
-- minus them and a search excludes them without reading every row.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX stakeholders_email_key_trgm ON stakeholders USING gin (email_key gin_trgm_ops);
CREATE INDEX stakeholders_name_key_trgm ON stakeholders USING gin (name_key gin_trgm_ops);
CREATE INDEX stakeholders_inactive ON stakeholders (id) WHERE NOT active;

-- The filter controls offer an attribute's most common values: read from this index, not by
-- sorting every value (a cost centre has thousands) on each page.
CREATE INDEX attribute_values_by_people ON attribute_values (name, people DESC, value);
