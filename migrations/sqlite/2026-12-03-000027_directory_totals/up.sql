-- The directory's totals kept as the stakeholders change (issue 17): every directory page
-- and the admin home show "N active of M"; counting them read every stakeholder's key on
-- each page (on PostgreSQL a scan of the whole table, as long as the page's own search).
-- One row, kept by triggers in the transaction of each write, whoever writes: the import,
-- an edit, a deactivation, a tool with plain SQL. A large import adds its new rows in one
-- statement instead (`db::models::stakeholder_search::index_after`).
--
-- `generation` counts the writes of stakeholders: the server keeps how many people a
-- search matched, and the filter controls' values (`attribute_values`, written by the
-- import with its stakeholders), for as long as it has not changed
-- (`directory::DirectoryCache`). A
-- stakeholder's attributes are indexed (`stakeholder_attributes`) only with a write of its
-- row, whose `attributes` column is their stored truth, so the row's triggers see every
-- change a search can.
CREATE TABLE directory_totals (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    total BIGINT NOT NULL,
    inactive BIGINT NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO directory_totals (id, total, inactive, generation)
SELECT 1, COUNT(*), COALESCE(SUM(CASE WHEN active = 0 THEN 1 ELSE 0 END), 0), 0
FROM stakeholders;

CREATE TRIGGER directory_totals_insert AFTER INSERT ON stakeholders BEGIN
    UPDATE directory_totals
    SET total = total + 1, inactive = inactive + (new.active = 0), generation = generation + 1
    WHERE id = 1;
END;

CREATE TRIGGER directory_totals_update AFTER UPDATE ON stakeholders BEGIN
    UPDATE directory_totals
    SET inactive = inactive + (new.active = 0) - (old.active = 0), generation = generation + 1
    WHERE id = 1;
END;

CREATE TRIGGER directory_totals_delete AFTER DELETE ON stakeholders BEGIN
    UPDATE directory_totals
    SET total = total - 1, inactive = inactive - (old.active = 0), generation = generation + 1
    WHERE id = 1;
END;
