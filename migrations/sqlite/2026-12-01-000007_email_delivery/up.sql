-- Mail that could not be delivered because of temporary failures (the relay was down,
-- mailbox busy) is no longer a hard bounce: such a row is `dead` with `retryable` set, can
-- be sent again (`pulse wave retry-failed`), and its address is NOT suppressed. Only a
-- refused recipient (5xx to RCPT, 5.1.x / 5.2.1) suppresses an address.
ALTER TABLE outbox ADD COLUMN retryable BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE outbox SET retryable = TRUE WHERE state = 'dead' AND last_error LIKE 'temporary failure:%';

-- Which wave's mail bounced (for `pulse stakeholders suppressions` and the admin page).
ALTER TABLE suppressions ADD COLUMN wave_id TEXT;

-- Suppressions that came from temporary failures outlasting the retries are lifted.
DELETE FROM suppressions WHERE reason LIKE 'temporary failure:%';
