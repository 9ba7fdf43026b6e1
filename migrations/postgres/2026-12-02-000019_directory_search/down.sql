-- The pg_trgm extension stays: other objects of the database may use it.
DROP INDEX attribute_values_by_people;
DROP INDEX stakeholders_inactive;
DROP INDEX stakeholders_name_key_trgm;
DROP INDEX stakeholders_email_key_trgm;
