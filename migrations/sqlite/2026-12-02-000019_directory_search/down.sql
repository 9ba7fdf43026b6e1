DROP INDEX attribute_values_by_people;
DROP INDEX stakeholders_inactive;
DROP TRIGGER stakeholder_search_delete;
DROP TRIGGER stakeholder_search_update;
DROP TRIGGER stakeholder_search_insert;
DROP TABLE stakeholder_search;
