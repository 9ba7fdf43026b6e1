DROP INDEX invitations_wave_segment;
