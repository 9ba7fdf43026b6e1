-- Schedules under control and waves outside the trend.
--
-- A schedule is active (creates and opens its waves), paused (`active` false: creates and
-- opens nothing until resumed) or stopped (`stopped_at` set: for good; its wave not yet
-- opened was cancelled when it stopped).
ALTER TABLE schedules ADD COLUMN stopped_at TIMESTAMP;

-- Ad-hoc or test waves an admin marked as not comparable: left out of the survey's trend
-- and never "the previous wave" another wave is compared with.
CREATE TABLE trend_exclusions (
    wave_id TEXT PRIMARY KEY NOT NULL REFERENCES waves (id),
    created_at TIMESTAMP NOT NULL
);
