-- Invitations of a wave per full segment (the org chart's groups), kept as invitations are
-- written (wave opening, each pulse), so the results read a row per segment instead of
-- grouping every invitation of the wave.
CREATE TABLE wave_segments (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    segment TEXT NOT NULL,
    invited BIGINT NOT NULL,
    PRIMARY KEY (wave_id, segment)
);
INSERT INTO wave_segments (wave_id, segment, invited)
SELECT wave_id, segment, COUNT(*) FROM invitations GROUP BY wave_id, segment;
