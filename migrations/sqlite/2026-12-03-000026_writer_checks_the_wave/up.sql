-- PostgreSQL only (see its migration): SQLite keeps these foreign keys.
SELECT 1;
