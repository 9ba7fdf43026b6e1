-- The directory in SQL: search, attribute filters and pages run in the database.
--
-- * email_key / name_key: the email and the name lower-cased (by the application, with
--   Unicode rules; see `db::models::stakeholders::search_key`), searched with LIKE '%…%'.
--   Rows that exist already get the database's lower() here, and the application then
--   re-folds every row where that differs from its own folding (`db::run_migrations`).
-- * stakeholder_attributes: one row per (stakeholder, attribute) — the JSON column
--   `stakeholders.attributes` stays the stored truth; this table indexes it for filters and
--   is written in the same transaction by every write of a stakeholder.
-- * attribute_values: each attribute's distinct values and how many stakeholders have them,
--   kept up to date by every import, for the filter controls.
ALTER TABLE stakeholders ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
ALTER TABLE stakeholders ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE stakeholders SET email_key = lower(email), name_key = coalesce(lower(name), '');
CREATE INDEX stakeholders_active_email ON stakeholders (active, email);

-- No foreign key: stakeholders are never deleted, and a per-row check would double the cost
-- of importing a large directory. The key leads with (name, value), the order a filter reads
-- it in; the application deletes rows by their full key (it knows the old attributes).
CREATE TABLE stakeholder_attributes (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    stakeholder_id TEXT NOT NULL,
    PRIMARY KEY (name, value, stakeholder_id)
) WITHOUT ROWID;
INSERT INTO stakeholder_attributes (stakeholder_id, name, value)
SELECT s.id, j.key, trim(j.value) FROM stakeholders s, json_each(s.attributes) j
WHERE trim(j.value) <> '';

CREATE TABLE attribute_values (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    people BIGINT NOT NULL,
    PRIMARY KEY (name, value)
);
INSERT INTO attribute_values (name, value, people)
SELECT name, value, COUNT(*) FROM stakeholder_attributes GROUP BY name, value;
