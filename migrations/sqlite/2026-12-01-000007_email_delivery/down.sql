-- Lifted suppressions are not restored (they were wrong).
ALTER TABLE suppressions DROP COLUMN wave_id;
ALTER TABLE outbox DROP COLUMN retryable;
