DROP TRIGGER directory_totals_delete;
DROP TRIGGER directory_totals_update;
DROP TRIGGER directory_totals_insert;
DROP TABLE directory_totals;
