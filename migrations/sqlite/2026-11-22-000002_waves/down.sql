DROP TABLE suppressions;
DROP TABLE opt_outs;
DROP TABLE outbox;
DROP TABLE invitations;
DROP TABLE waves;
DROP TABLE schedules;
