-- Invitations per frozen segment cell of a wave, written once when the wave opens (in the
-- same transaction as the invitations): response rates per segment and the anonymity plan
-- read these few rows instead of counting a wave's invitations on every results read.
CREATE TABLE wave_cells (
    wave_id TEXT NOT NULL REFERENCES waves (id),
    cell TEXT NOT NULL,
    invited BIGINT NOT NULL,
    PRIMARY KEY (wave_id, cell)
);

-- Waves opened before this table existed.
INSERT INTO wave_cells (wave_id, cell, invited)
SELECT wave_id, segment, COUNT(*) FROM invitations GROUP BY wave_id, segment;
