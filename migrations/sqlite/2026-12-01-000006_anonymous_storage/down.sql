-- Back to a responded flag. Marks cannot be turned back without the key: only invitations
-- answered before the migration (still in legacy_answered) are flagged again.
ALTER TABLE invitations DROP COLUMN response_cell;
ALTER TABLE invitations ADD COLUMN responded BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE invitations SET responded = TRUE
WHERE id IN (SELECT invitation_id FROM legacy_answered);
DROP TABLE result_filter_snapshots;
DROP TABLE wave_comments;
DROP TABLE legacy_answered;
DROP TABLE answered_marks;
