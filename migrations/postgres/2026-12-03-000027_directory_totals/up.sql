-- The directory's totals kept as the stakeholders change (issue 17): every directory page
-- and the admin home show "N active of M"; counting them scanned the whole table on each
-- page (as long as the page's own search). One row, kept by statement triggers (each
-- statement's rows counted once, COPY included) in the transaction of each write, whoever
-- writes.
--
-- `generation` counts the writes of stakeholders: the server keeps how many people a
-- search matched, and the filter controls' values (`attribute_values`, written by the
-- import with its stakeholders), for as long as it has not changed
-- (`directory::DirectoryCache`). A
-- stakeholder's attributes are indexed (`stakeholder_attributes`) only with a write of its
-- row, whose `attributes` column is their stored truth, so the row's triggers see every
-- change a search can.
CREATE TABLE directory_totals (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    total BIGINT NOT NULL,
    inactive BIGINT NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO directory_totals (id, total, inactive, generation)
SELECT 1, COUNT(*), COUNT(*) FILTER (WHERE NOT active), 0 FROM stakeholders;

-- Each statement's rows: those it added (new_rows) and removed (old_rows); an update does
-- both, so only the inactive count can change.
CREATE FUNCTION directory_totals_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    added BIGINT := 0;
    added_inactive BIGINT := 0;
    removed BIGINT := 0;
    removed_inactive BIGINT := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT active) INTO added, added_inactive
        FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT active) INTO removed, removed_inactive
        FROM old_rows;
    END IF;
    UPDATE directory_totals
    SET total = total + added - removed,
        inactive = inactive + added_inactive - removed_inactive,
        generation = generation + 1
    WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER directory_totals_insert AFTER INSERT ON stakeholders
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION directory_totals_change();
CREATE TRIGGER directory_totals_update AFTER UPDATE ON stakeholders
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION directory_totals_change();
CREATE TRIGGER directory_totals_delete AFTER DELETE ON stakeholders
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION directory_totals_change();
