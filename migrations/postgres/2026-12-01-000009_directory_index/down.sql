DROP TABLE attribute_values;
DROP TABLE stakeholder_attributes;
DROP INDEX stakeholders_active_email;
ALTER TABLE stakeholders DROP COLUMN name_key;
ALTER TABLE stakeholders DROP COLUMN email_key;
