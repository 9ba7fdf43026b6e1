DROP INDEX stakeholders_id_email;
