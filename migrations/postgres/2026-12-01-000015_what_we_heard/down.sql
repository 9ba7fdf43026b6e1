-- Mail of the two kinds goes with them.
DELETE FROM outbox WHERE kind IN ('what_we_heard', 'owner_digest');
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('invitation', 'reminder', 'results_ready'));
DROP TABLE wave_summaries;
