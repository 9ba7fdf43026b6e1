-- Scorecards: procurement's request log and KPI values per half-year and business unit.
-- The same tables as the SQLite migration.

-- One row per procurement request, keyed by the organisation's own request id (a re-import
-- updates the row). Dates are calendar days; fulfilled_on is NULL while the request is open.
CREATE TABLE procurement_requests (
    id TEXT PRIMARY KEY NOT NULL,
    business_unit TEXT NOT NULL,
    requester_email TEXT,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    value_amount DOUBLE PRECISION,
    currency TEXT,
    opened_on DATE NOT NULL,
    fulfilled_on DATE,
    status TEXT NOT NULL CHECK (status IN ('open', 'fulfilled', 'cancelled')),
    imported_at TIMESTAMP NOT NULL
);
CREATE INDEX procurement_requests_unit ON procurement_requests (business_unit, opened_on);

-- KPI values as imported: one per KPI key, half-year (e.g. 2027-H1) and business unit.
CREATE TABLE kpi_values (
    kpi_key TEXT NOT NULL,
    period TEXT NOT NULL,
    business_unit TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kpi_key, period, business_unit)
);
CREATE INDEX kpi_values_unit ON kpi_values (business_unit, period);

-- Accounts may now be viewers, scoped to business units.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'lead', 'viewer'));

-- The business units a viewer account may see (their scorecards only).
CREATE TABLE user_scopes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    business_unit TEXT NOT NULL,
    PRIMARY KEY (user_id, business_unit)
);
