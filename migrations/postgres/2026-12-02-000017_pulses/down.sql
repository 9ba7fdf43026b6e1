DROP TABLE pulse_settings;
DROP TABLE pulse_periods;
DROP TABLE request_pulses;
