DROP INDEX answers_text;
DROP INDEX invitations_wave_segment;
DROP INDEX answer_counts_question;
DROP TABLE result_snapshots;
