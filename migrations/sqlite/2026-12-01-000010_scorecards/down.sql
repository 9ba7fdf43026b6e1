PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

DROP TABLE user_scopes;
-- Viewer accounts cannot exist without the viewer role: they go, with their sessions.
DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE role = 'viewer');
DELETE FROM users WHERE role = 'viewer';
CREATE TABLE users_old (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'lead')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO users_old (id, email, password_hash, role, active, created_at)
    SELECT id, email, password_hash, role, active, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;

DROP TABLE kpi_values;
DROP TABLE procurement_requests;

COMMIT;
PRAGMA foreign_keys = ON;
