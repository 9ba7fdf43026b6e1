DROP TRIGGER directory_totals_delete ON stakeholders;
DROP TRIGGER directory_totals_update ON stakeholders;
DROP TRIGGER directory_totals_insert ON stakeholders;
DROP FUNCTION directory_totals_change();
DROP TABLE directory_totals;
