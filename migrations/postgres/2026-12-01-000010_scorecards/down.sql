DROP TABLE user_scopes;
-- Viewer accounts cannot exist without the viewer role: they go (their sessions cascade).
DELETE FROM users WHERE role = 'viewer';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'lead'));

DROP TABLE kpi_values;
DROP TABLE procurement_requests;
