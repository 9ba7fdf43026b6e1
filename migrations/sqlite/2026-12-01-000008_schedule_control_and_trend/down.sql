DROP TABLE trend_exclusions;
ALTER TABLE schedules DROP COLUMN stopped_at;
