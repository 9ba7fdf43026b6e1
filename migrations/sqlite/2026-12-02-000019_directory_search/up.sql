-- The directory's text search with an index (issue 17): a substring of the folded email or
-- name (`email_key` / `name_key`, see `db::models::stakeholders::search_key`) was found with
-- LIKE '%…%', a scan of every row for each count and page.
--
-- * stakeholder_search: an FTS5 index of the trigrams of email_key and name_key (external
--   content: the text stays in `stakeholders`, keyed by its rowid). Case-sensitive, because
--   the keys and the search text are folded by the application already, so a phrase query
--   of a search of 3 or more characters matches exactly the rows LIKE '%text%' matched.
--   Shorter searches have no trigram and still use LIKE. Triggers keep the index in step
--   with every write of the keys, in the same transaction. Stakeholders are never deleted,
--   so their rowids are dense and VACUUM (and `VACUUM INTO`, the backup) keeps them.
-- * stakeholders_inactive: the few inactive stakeholders, so "active" is counted as
--   everyone minus them and a search excludes them without reading every row.
CREATE VIRTUAL TABLE stakeholder_search USING fts5(
    email_key,
    name_key,
    content = 'stakeholders',
    content_rowid = 'rowid',
    tokenize = 'trigram case_sensitive 1'
);
INSERT INTO stakeholder_search (stakeholder_search) VALUES ('rebuild');

CREATE TRIGGER stakeholder_search_insert AFTER INSERT ON stakeholders BEGIN
    INSERT INTO stakeholder_search (rowid, email_key, name_key)
    VALUES (new.rowid, new.email_key, new.name_key);
END;

CREATE TRIGGER stakeholder_search_update AFTER UPDATE OF email_key, name_key ON stakeholders
WHEN old.email_key IS NOT new.email_key OR old.name_key IS NOT new.name_key BEGIN
    INSERT INTO stakeholder_search (stakeholder_search, rowid, email_key, name_key)
    VALUES ('delete', old.rowid, old.email_key, old.name_key);
    INSERT INTO stakeholder_search (rowid, email_key, name_key)
    VALUES (new.rowid, new.email_key, new.name_key);
END;

CREATE TRIGGER stakeholder_search_delete AFTER DELETE ON stakeholders BEGIN
    INSERT INTO stakeholder_search (stakeholder_search, rowid, email_key, name_key)
    VALUES ('delete', old.rowid, old.email_key, old.name_key);
END;

CREATE INDEX stakeholders_inactive ON stakeholders (id) WHERE active = 0;

-- The filter controls offer an attribute's most common values: read from this index, not by
-- sorting every value (a cost centre has thousands) on each page.
CREATE INDEX attribute_values_by_people ON attribute_values (name, people DESC, value);
